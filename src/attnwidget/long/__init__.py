"""Inputs over the memory budget: queries and keys captured in one fused pass, exact weights block by block."""
