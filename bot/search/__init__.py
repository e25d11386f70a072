"""Web search for grounded answers: moai's own backends (SearXNG, Brave, Tavily), the numbered sources it
gives a model and reads back, and what search costs."""
