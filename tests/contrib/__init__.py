"""Tests of the optional integrations in shortly.contrib."""
