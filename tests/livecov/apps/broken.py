"""An app whose import fails, as a typo in a real app would."""

raise RuntimeError("boom while importing the app")
