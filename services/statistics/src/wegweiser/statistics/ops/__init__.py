"""Operations: projection generations, rebuilds from the topics' history, and the background workers."""
