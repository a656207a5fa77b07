"""Model descriptions: config presets -> perfmodel op graphs and runnable CPU forward passes."""
