"""Warehouse adapters. Each module imports its driver inside connect(), so none is loaded until used."""
