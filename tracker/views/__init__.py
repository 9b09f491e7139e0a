"""Thin views: each reads through tracker.permissions and writes through tracker.actions."""
