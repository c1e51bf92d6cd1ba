"""Read a source: poll a feed or a sitemap, read a page, or read an archive in chunks."""
