"""Media facts and tools: probing, geometry, Pillow operations, ffmpeg argv and the one runner."""
