"""Tests of the web application (issue 5)."""
