"""What a query answers (area "query", PS3.4 C and K): matching, returned keys, character sets, worklist."""
