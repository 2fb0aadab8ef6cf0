"""``keras.preprocessing.image``: the image file helpers (the same functions as ``easynn.utils``'s)."""

from easynn.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
