"""CPU avatar rendering: animate a portrait so its mouth follows a speech track."""
