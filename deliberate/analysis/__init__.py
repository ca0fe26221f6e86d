"""Pure analysis: numpy / scipy / scikit-learn in, frozen dataclasses out (no Flask, no models)."""
