"""Device-side privacy features (photo sharing, private spaces, lost device, browser)."""
