"""Speech recognition: Whisper (faster-whisper / CTranslate2) from packaged weights."""
