"""
The on-device enhancement features the catalog declares as collecting nothing (call noise
reduction, camera image optimisation): pure functions over a buffer, with no I/O, no gate,
no table and no file. ``tests/services/ai`` proves a run stores nothing anywhere.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float64]


def reduce_noise(frame: Float, *, floor: float = 0.02) -> Float:
    """Spectral gating of one audio frame: bins below the noise floor are zeroed."""
    spectrum = np.fft.rfft(frame)
    magnitude = np.abs(spectrum)
    gate = magnitude >= floor * (magnitude.max() if magnitude.size else 0.0)
    return np.fft.irfft(spectrum * gate, n=len(frame))


def optimise_image(pixels: Float) -> Float:
    """Stretch an image's contrast to the full range (a stand-in for the camera's pipeline)."""
    lo, hi = float(pixels.min()), float(pixels.max())
    if hi <= lo:
        return pixels.copy()
    return (pixels - lo) / (hi - lo)
