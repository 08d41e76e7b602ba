"""
The on-device enhancement features the catalog declares as collecting, keeping and sending
nothing (``ai_technology.enhancement_keeps_no_data``): call noise reduction and camera image
optimisation. They are pure functions over the buffer they are handed: no file, no database,
no setting, no network; what they return goes back to the caller (the call's audio path, the
camera's pipeline) and nothing of it stays. ``tests/device`` diffs every file of the device
before and after and watches every request it makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported on first use: a server importing the device rules
    import numpy as np  # (the promises page) must not pay for it at start-up
    import numpy.typing as npt

    Float = npt.NDArray[np.float64]
else:
    Float = Any

FUNCTIONS = ("voice_call_noise_reduction", "camera_image_optimization")
"""The enhancement features, as the catalog names them."""


def reduce_noise(frame: Float, *, floor: float = 0.02) -> Float:
    """Call noise reduction on one audio frame: spectral bins below ``floor`` times the
    loudest are zeroed (spectral gating). A new array; ``frame`` is not changed."""
    import numpy as np  # noqa: PLC0415 - heavy import, paid on first use

    spectrum = np.fft.rfft(frame)
    magnitude = np.abs(spectrum)
    gate = magnitude >= floor * (magnitude.max() if magnitude.size else 0.0)
    return np.fft.irfft(spectrum * gate, n=len(frame))


def optimise_image(pixels: Float) -> Float:
    """Camera image optimisation: the contrast stretched to the full range [0, 1]. A new
    array; ``pixels`` is not changed."""
    import numpy as np  # noqa: PLC0415 - heavy import, paid on first use

    lo, hi = float(pixels.min()), float(pixels.max())
    if hi <= lo:
        return np.zeros_like(pixels)
    return (pixels - lo) / (hi - lo)


class Enhancements:
    """The device's enhancement features (holds no state)."""

    __slots__ = ()

    def call_frame(self, frame: Float) -> Float:
        """One frame of a voice call, with its noise reduced."""
        return reduce_noise(frame)

    def camera_frame(self, pixels: Float) -> Float:
        """One camera frame, optimised."""
        return optimise_image(pixels)
