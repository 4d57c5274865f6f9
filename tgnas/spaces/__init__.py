"""Search spaces: one folder per space (``tgnas/spaces/<name>/``, its object ``SPACE``), the
protocol they share (:mod:`tgnas.spaces.base`) and the catalog that names them
(:mod:`tgnas.spaces.catalog`: ``get_space("nb201")``).

This package module imports nothing, so that a space folder can be imported on its own.
"""
