"""Operations on a whole deployment: start-up recovery, consistency checks and repair, backup."""
