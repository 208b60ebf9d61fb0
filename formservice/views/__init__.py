"""Blueprints: parse the form, call one service, redirect or render."""
