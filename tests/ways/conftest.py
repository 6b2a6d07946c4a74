"""The matrix's projects are data, not tests of this suite: never collected here."""

collect_ignore = ["projects"]
