"""HTTP plumbing shared by every door: responses, problems, middleware, health."""
