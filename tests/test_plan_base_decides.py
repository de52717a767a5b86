EXERCISED = {"suite-slice-redefined", "trust-setting-changed", "waiver-widened"}
