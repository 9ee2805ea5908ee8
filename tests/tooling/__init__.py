"""Tests of the local tooling (tools/local); a package so its module names never clash with tests/e2e."""
