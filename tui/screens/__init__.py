"""Screens of the app: the library (article list) and the reader."""
