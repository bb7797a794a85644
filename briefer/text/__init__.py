"""The language every stage reads with: numbers written in digits or words (``numbers``), the
words of names and their forms (``words``), states and their names (``countries``), aliases of
actors (``aliases``), and dates as articles write them (``dates``). Imports no stage."""
