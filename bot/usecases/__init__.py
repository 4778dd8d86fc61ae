"""Use cases: what people and machines ask of the intake (write and read), the change log, jobs, kept facts."""
