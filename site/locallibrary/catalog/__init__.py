"""The catalog: books, authors, genres, languages and the physical copies of books."""
