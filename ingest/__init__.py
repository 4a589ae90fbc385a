"""Reading documents into Lotse's knowledge index: loaders per format, chunking, the index."""
