"""TG-NAS+: stable pure-predictor presets and the predictor combined with cheap proxies."""
