"""Community health insights: what the bot remembers of each repository's activity (``activity``),
the CHAOSS metrics computed from it in the database (``metrics``), and where people read them."""
