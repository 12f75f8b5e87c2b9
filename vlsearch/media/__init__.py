"""Media handling: safe image loading, stored copies and thumbnails, video probing and keyframes."""

from vlsearch.media.images import (
    ALLOWED_FORMATS,
    NORMALISED_LONG_SIDE,
    LoadedImage,
    encode_image,
    fit_within,
    load_image,
    sniff_image_format,
)
from vlsearch.media.keyframes import Keyframe, KeyframeResult, KeyframeSampler
from vlsearch.media.limits import MediaLimits
from vlsearch.media.store import THUMBNAIL_LONG_SIDE, StoredMedia, save_image_variants
from vlsearch.media.video import VideoInfo, check_duration, probe_video, sniff_video

__all__ = [
    "ALLOWED_FORMATS",
    "NORMALISED_LONG_SIDE",
    "THUMBNAIL_LONG_SIDE",
    "Keyframe",
    "KeyframeResult",
    "KeyframeSampler",
    "LoadedImage",
    "MediaLimits",
    "StoredMedia",
    "VideoInfo",
    "check_duration",
    "encode_image",
    "fit_within",
    "load_image",
    "probe_video",
    "save_image_variants",
    "sniff_image_format",
    "sniff_video",
]
