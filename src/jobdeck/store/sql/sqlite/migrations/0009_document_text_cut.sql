-- A document whose text was longer than max_text_chars keeps its first max_text_chars
-- characters; this column records the whole text's length, so the page can say where it
-- was cut (NULL: the whole text is kept).
ALTER TABLE expert_documents ADD COLUMN text_cut_from INTEGER;
