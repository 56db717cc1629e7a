"""The Thoughts frontend: the Django project ``mythoughts`` of the book, on current software."""
