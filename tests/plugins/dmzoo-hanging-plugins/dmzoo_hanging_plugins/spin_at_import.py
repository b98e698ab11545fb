"""Never finishes importing (a busy loop that keeps taking the GIL)."""

while True:
    pass
