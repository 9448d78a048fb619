"""Calibration on dispatch records: read them (:mod:`.records`), make synthetic ones with a known truth
(:mod:`.synthetic`), fit the drive-time model, call handling and turnout (:mod:`.fit`), and check a
scenario against them (:mod:`.validate`)."""
