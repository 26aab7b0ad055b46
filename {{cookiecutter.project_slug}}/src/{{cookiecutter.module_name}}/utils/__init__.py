"""Small helpers shared by training and serving: one-line errors, atomic files, column kinds,
progress lines."""
