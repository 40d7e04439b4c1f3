"""Where source videos come from: the link in a row's url cell, and site resolvers (Douyin)."""
