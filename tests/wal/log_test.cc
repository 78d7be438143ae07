// Placeholder; replaced by the real test.
