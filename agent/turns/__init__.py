"""Turn-taking: who is speaking, when a viewer's turn ends, and when the viewer talks over the agent."""
