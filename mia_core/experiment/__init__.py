"""An experiment: the run, its references, sweeps, reproductions and one record's verdict."""
