"""The libcst side: what rules see while a file is rewritten, and the shared node builders."""
