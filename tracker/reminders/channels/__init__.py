"""The ways a digest reaches people: email (``email``)."""
