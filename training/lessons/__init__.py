"""The study notes' lessons as models: each module builds one lesson's model and its data."""
