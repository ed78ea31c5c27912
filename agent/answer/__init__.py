"""Grounded answers: screening, planning from catalog facts, composing and checking clauses."""
