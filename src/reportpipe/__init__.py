"""reportpipe: monthly exports in, the annual report's figures out."""
