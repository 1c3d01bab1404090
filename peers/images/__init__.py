"""Dockerfiles of the local peer images and the script that builds them (see build.py)."""
