"""`charter gate data`: a contract's rules (`contract_rules`) judged on data in one scan (`gate`), with the
column quality rules (`quality`), table rules (`table`), SQL rules (`sql_rules`); `synthetic` makes test data."""
