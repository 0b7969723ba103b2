/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison interface for Yacc-like parsers in C

   Copyright (C) 1984, 1989-1990, 2000-2015, 2018-2021 Free Software Foundation,
   Inc.

   This program is free software: you can redistribute it and/or modify
   it under the terms of the GNU General Public License as published by
   the Free Software Foundation, either version 3 of the License, or
   (at your option) any later version.

   This program is distributed in the hope that it will be useful,
   but WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
   GNU General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* As a special exception, you may create a larger work that contains
   part or all of the Bison parser skeleton and distribute that work
   under terms of your choice, so long as that work isn't itself a
   parser generator using the skeleton or a modified version thereof
   as a parser skeleton.  Alternatively, if you modify or redistribute
   the parser skeleton itself, you may (at your option) remove this
   special exception, which will cause the skeleton and the resulting
   Bison output files to be licensed under the GNU General Public
   License without this special exception.

   This special exception was added by the Free Software Foundation in
   version 2.2 of Bison.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

#ifndef YY_YY_BUILD_FUZZ_PARSER_H_INCLUDED
# define YY_YY_BUILD_FUZZ_PARSER_H_INCLUDED
/* Debug traces.  */
#ifndef YYDEBUG
# define YYDEBUG 0
#endif
#if YYDEBUG
extern int yydebug;
#endif
/* "%code requires" blocks.  */
#line 6 "lang/parser.y"

#include "ast.h"

/* An open bracket the lexer has seen but not yet matched, for "to close ... opened
 * here" notes and the nesting limit. `word` is the statement's first word (model,
 * layers, forward...) and `name` the name after it, when there is one. */
typedef struct Opener {
    char ch;
    Span at;
    const char *word, *name;
    int word_len;
} Opener;

/* State shared by the lexer and the parser of one file; lives on parse_file's stack. */
typedef struct ParseCtx {
    Arena *arena;
    const SrcFile *file;
    void *scanner;          /* flex's yyscan_t */
    void *lval;             /* where the lexer writes the token's value (YYSTYPE *) */
    Ast *program;

    /* lexer position, all 1-based; pos is the byte offset of the next token */
    int line, col;
    size_t pos;
    Span loc;               /* of the token just scanned */
    Span last;              /* of the last real token (not an automatic ';') */
    bool can_end;           /* the last token may end a statement */
    bool eof_done;          /* end of file reached (and its automatic ';' emitted) */
    bool fatal;             /* nesting limit hit or not a text file: stop, report nothing more */
    int nbad;               /* unexpected characters reported so far */
    bool close_brackets;    /* an unterminated string ate the line: close open ( and [ */
    bool stmt_lex_error;    /* the lexer reported an error in this statement: the parser
                             * stays quiet until the next one */
    Opener open[NNL_MAX_NESTING];
    int nopen, depth;       /* depth: '(' and '[' in open[] (braces do not count) */
    /* A token's effect on open[] and on the statement words is applied when the next
     * token is fetched, so a syntax error at a bracket still sees what it closes. */
    int pend_tok;
    Span pend_at;

    /* the last token handed to the parser, which syntax errors name */
    int tok, prev_tok;
    const char *tok_text;
    int tok_len;
    bool tok_inserted;      /* an automatic ';' */
    bool tok_unmatched;     /* a closer with no opener */

    /* the statement being scanned: its first word and the name after it */
    const char *stmt_word, *stmt_name;
    int stmt_word_len, stmt_ntoks, stmt_tok;
    int stmt_ops;           /* binary operators so far: bounds the depth of the tree */

    /* after a syntax error, the rest of the broken statement is dropped (lex_recover) */
    bool skipping;
    int skip_base;          /* open[] entries that belong to the enclosing blocks */
} ParseCtx;

#line 107 "build-fuzz/parser.h"

/* Token kinds.  */
#ifndef YYTOKENTYPE
# define YYTOKENTYPE
  enum yytokentype
  {
    YYEMPTY = -2,
    END = 0,                       /* "end of file"  */
    YYerror = 256,                 /* error  */
    YYUNDEF = 257,                 /* "invalid token"  */
    IDENT = 258,                   /* "identifier"  */
    NUM = 259,                     /* "number"  */
    STR = 260,                     /* "string"  */
    USE = 261,                     /* "use"  */
    LAYER = 262,                   /* "layer"  */
    MODEL = 263,                   /* "model"  */
    DATA = 264,                    /* "data"  */
    TRAIN = 265,                   /* "train"  */
    PARAM = 266,                   /* "param"  */
    INPUT = 267,                   /* "input"  */
    OUTPUT = 268,                  /* "output"  */
    FORWARD = 269,                 /* "forward"  */
    LET = 270,                     /* "let"  */
    RETURN = 271,                  /* "return"  */
    LAYERS = 272,                  /* "layers"  */
    EVALUATE = 273,                /* "evaluate"  */
    ON = 274,                      /* "on"  */
    EVERY = 275,                   /* "every"  */
    ELLIPSIS = 276,                /* "..."  */
    ARROW = 277,                   /* "=>"  */
    UMINUS = 278                   /* UMINUS  */
  };
  typedef enum yytokentype yytoken_kind_t;
#endif

/* Value type.  */
#if ! defined YYSTYPE && ! defined YYSTYPE_IS_DECLARED
union YYSTYPE
{
#line 139 "lang/parser.y"

    Ast *ast;
    const char *s;
    PtrVec list;

#line 153 "build-fuzz/parser.h"

};
typedef union YYSTYPE YYSTYPE;
# define YYSTYPE_IS_TRIVIAL 1
# define YYSTYPE_IS_DECLARED 1
#endif

/* Location type.  */
typedef Span YYLTYPE;




int yyparse (ParseCtx *ctx);

/* "%code provides" blocks.  */
#line 64 "lang/parser.y"

int yylex(YYSTYPE *lval, Span *lloc, ParseCtx *ctx);
void lex_begin(ParseCtx *ctx, Arena *a, const SrcFile *f);
void lex_end(ParseCtx *ctx);
Span lex_eof_span(const ParseCtx *ctx);
/* After a syntax error: forget the '(' and '[' of the broken statement and drop its
 * remaining tokens, brackets balanced, up to the newline, ';' or '}' that ends it. */
void lex_recover(ParseCtx *ctx);

#line 180 "build-fuzz/parser.h"

#endif /* !YY_YY_BUILD_FUZZ_PARSER_H_INCLUDED  */
