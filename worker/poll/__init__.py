"""Read a source: poll a feed (`feed`) or read an archive in chunks (`archive`)."""
