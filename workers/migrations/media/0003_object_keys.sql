-- Each row names the R2 object that holds its key's bytes (workers/src/storage/metadata.ts):
-- an upload writes a new object under a name of its own, then points the row at it in one
-- transaction. Rows written before this migration, or by the previous code while a deploy
-- is under way, have none: their object is stored under the key itself.
ALTER TABLE media_objects ADD COLUMN object_key TEXT;
