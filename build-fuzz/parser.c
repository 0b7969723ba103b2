/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison implementation for Yacc-like parsers in C

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

/* C LALR(1) parser skeleton written by Richard Stallman, by
   simplifying the original so-called "semantic" parser.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

/* All symbols defined below should begin with yy or YY, to avoid
   infringing on user name space.  This should be done even for local
   variables, as they might otherwise be expanded by user macros.
   There are some unavoidable exceptions within include files to
   define necessary library symbols; they are noted "INFRINGES ON
   USER NAME SPACE" below.  */

/* Identify Bison output, and Bison version.  */
#define YYBISON 30802

/* Bison version string.  */
#define YYBISON_VERSION "3.8.2"

/* Skeleton name.  */
#define YYSKELETON_NAME "yacc.c"

/* Pure parsers.  */
#define YYPURE 2

/* Push parsers.  */
#define YYPUSH 0

/* Pull parsers.  */
#define YYPULL 1

/* "%code top" blocks.  */
#line 74 "lang/parser.y"

#include <string.h>

#line 72 "build-fuzz/parser.c"




# ifndef YY_CAST
#  ifdef __cplusplus
#   define YY_CAST(Type, Val) static_cast<Type> (Val)
#   define YY_REINTERPRET_CAST(Type, Val) reinterpret_cast<Type> (Val)
#  else
#   define YY_CAST(Type, Val) ((Type) (Val))
#   define YY_REINTERPRET_CAST(Type, Val) ((Type) (Val))
#  endif
# endif
# ifndef YY_NULLPTR
#  if defined __cplusplus
#   if 201103L <= __cplusplus
#    define YY_NULLPTR nullptr
#   else
#    define YY_NULLPTR 0
#   endif
#  else
#   define YY_NULLPTR ((void*)0)
#  endif
# endif

#include "parser.h"
/* Symbol kind.  */
enum yysymbol_kind_t
{
  YYSYMBOL_YYEMPTY = -2,
  YYSYMBOL_YYEOF = 0,                      /* "end of file"  */
  YYSYMBOL_YYerror = 1,                    /* error  */
  YYSYMBOL_YYUNDEF = 2,                    /* "invalid token"  */
  YYSYMBOL_IDENT = 3,                      /* "identifier"  */
  YYSYMBOL_NUM = 4,                        /* "number"  */
  YYSYMBOL_STR = 5,                        /* "string"  */
  YYSYMBOL_USE = 6,                        /* "use"  */
  YYSYMBOL_LAYER = 7,                      /* "layer"  */
  YYSYMBOL_MODEL = 8,                      /* "model"  */
  YYSYMBOL_DATA = 9,                       /* "data"  */
  YYSYMBOL_TRAIN = 10,                     /* "train"  */
  YYSYMBOL_PARAM = 11,                     /* "param"  */
  YYSYMBOL_INPUT = 12,                     /* "input"  */
  YYSYMBOL_OUTPUT = 13,                    /* "output"  */
  YYSYMBOL_FORWARD = 14,                   /* "forward"  */
  YYSYMBOL_LET = 15,                       /* "let"  */
  YYSYMBOL_RETURN = 16,                    /* "return"  */
  YYSYMBOL_LAYERS = 17,                    /* "layers"  */
  YYSYMBOL_EVALUATE = 18,                  /* "evaluate"  */
  YYSYMBOL_ON = 19,                        /* "on"  */
  YYSYMBOL_EVERY = 20,                     /* "every"  */
  YYSYMBOL_ELLIPSIS = 21,                  /* "..."  */
  YYSYMBOL_ARROW = 22,                     /* "=>"  */
  YYSYMBOL_23_ = 23,                       /* '+'  */
  YYSYMBOL_24_ = 24,                       /* '-'  */
  YYSYMBOL_25_ = 25,                       /* '*'  */
  YYSYMBOL_26_ = 26,                       /* '/'  */
  YYSYMBOL_27_ = 27,                       /* '@'  */
  YYSYMBOL_UMINUS = 28,                    /* UMINUS  */
  YYSYMBOL_29_ = 29,                       /* ';'  */
  YYSYMBOL_30_ = 30,                       /* '.'  */
  YYSYMBOL_31_ = 31,                       /* '('  */
  YYSYMBOL_32_ = 32,                       /* ')'  */
  YYSYMBOL_33_ = 33,                       /* '{'  */
  YYSYMBOL_34_ = 34,                       /* '}'  */
  YYSYMBOL_35_ = 35,                       /* ','  */
  YYSYMBOL_36_ = 36,                       /* ':'  */
  YYSYMBOL_37_ = 37,                       /* '='  */
  YYSYMBOL_38_ = 38,                       /* '['  */
  YYSYMBOL_39_ = 39,                       /* ']'  */
  YYSYMBOL_YYACCEPT = 40,                  /* $accept  */
  YYSYMBOL_program = 41,                   /* program  */
  YYSYMBOL_item_seq = 42,                  /* item_seq  */
  YYSYMBOL_opt_item = 43,                  /* opt_item  */
  YYSYMBOL_item = 44,                      /* item  */
  YYSYMBOL_use = 45,                       /* use  */
  YYSYMBOL_dotted = 46,                    /* dotted  */
  YYSYMBOL_layer_def = 47,                 /* layer_def  */
  YYSYMBOL_paramdefs = 48,                 /* paramdefs  */
  YYSYMBOL_paramdef_list = 49,             /* paramdef_list  */
  YYSYMBOL_paramdef = 50,                  /* paramdef  */
  YYSYMBOL_opt_type_name = 51,             /* opt_type_name  */
  YYSYMBOL_opt_init = 52,                  /* opt_init  */
  YYSYMBOL_layer_body = 53,                /* layer_body  */
  YYSYMBOL_opt_layer_stmt = 54,            /* opt_layer_stmt  */
  YYSYMBOL_layer_stmt = 55,                /* layer_stmt  */
  YYSYMBOL_block_body = 56,                /* block_body  */
  YYSYMBOL_opt_block_stmt = 57,            /* opt_block_stmt  */
  YYSYMBOL_block_stmt = 58,                /* block_stmt  */
  YYSYMBOL_expr_list = 59,                 /* expr_list  */
  YYSYMBOL_type = 60,                      /* type  */
  YYSYMBOL_dims = 61,                      /* dims  */
  YYSYMBOL_dim_list = 62,                  /* dim_list  */
  YYSYMBOL_dim = 63,                       /* dim  */
  YYSYMBOL_model_def = 64,                 /* model_def  */
  YYSYMBOL_model_body = 65,                /* model_body  */
  YYSYMBOL_opt_model_stmt = 66,            /* opt_model_stmt  */
  YYSYMBOL_model_stmt = 67,                /* model_stmt  */
  YYSYMBOL_entries = 68,                   /* entries  */
  YYSYMBOL_opt_entry = 69,                 /* opt_entry  */
  YYSYMBOL_entry = 70,                     /* entry  */
  YYSYMBOL_acts = 71,                      /* acts  */
  YYSYMBOL_data_def = 72,                  /* data_def  */
  YYSYMBOL_data_body = 73,                 /* data_body  */
  YYSYMBOL_opt_data_stmt = 74,             /* opt_data_stmt  */
  YYSYMBOL_data_stmt = 75,                 /* data_stmt  */
  YYSYMBOL_train_def = 76,                 /* train_def  */
  YYSYMBOL_opt_on = 77,                    /* opt_on  */
  YYSYMBOL_train_body = 78,                /* train_body  */
  YYSYMBOL_opt_train_stmt = 79,            /* opt_train_stmt  */
  YYSYMBOL_train_stmt = 80,                /* train_stmt  */
  YYSYMBOL_opt_arg = 81,                   /* opt_arg  */
  YYSYMBOL_opt_every = 82,                 /* opt_every  */
  YYSYMBOL_opt_metrics = 83,               /* opt_metrics  */
  YYSYMBOL_name_list = 84,                 /* name_list  */
  YYSYMBOL_expr = 85,                      /* expr  */
  YYSYMBOL_postfix = 86,                   /* postfix  */
  YYSYMBOL_index_list = 87,                /* index_list  */
  YYSYMBOL_index_item = 88,                /* index_item  */
  YYSYMBOL_primary = 89,                   /* primary  */
  YYSYMBOL_args = 90,                      /* args  */
  YYSYMBOL_arg_list = 91,                  /* arg_list  */
  YYSYMBOL_arg = 92                        /* arg  */
};
typedef enum yysymbol_kind_t yysymbol_kind_t;



/* Unqualified %code blocks.  */
#line 78 "lang/parser.y"

/* A node's span runs from its first child's first byte to its last child's last;
 * an empty rule sits just after what precedes it. */
#define YYLLOC_DEFAULT(cur, rhs, n)                                         \
    do {                                                                    \
        if (n) {                                                            \
            (cur) = span_join(YYRHSLOC(rhs, 1), YYRHSLOC(rhs, n));          \
        } else {                                                            \
            (cur) = YYRHSLOC(rhs, 0);                                       \
            (cur).first_line = (cur).last_line;                             \
            (cur).first_col = (cur).last_col + 1;                           \
            (cur).last_col = (cur).first_col;                               \
        }                                                                   \
    } while (0)

/* Bison's own stack limit: deep expressions (`- - - ... x`, long chains of
 * parentheses) become "nested too deeply", never a crash. */
#define YYMAXDEPTH (NNL_MAX_NESTING * 10)

static void yyerror(Span *loc, ParseCtx *ctx, const char *msg);

static Ast *node(ParseCtx *ctx, AstKind k, Span at)
{
    return ast_new(ctx->arena, k, at);
}

static Ast *named(ParseCtx *ctx, AstKind k, Span at, const char *name)
{
    Ast *n = ast_new(ctx->arena, k, at);
    n->name = name;
    return n;
}

static Ast *binary(ParseCtx *ctx, Span at, int op, Ast *lhs, Ast *rhs)
{
    Ast *n = ast_new(ctx->arena, AST_BINARY, at);
    n->op = op;
    n->lhs = lhs;
    n->rhs = rhs;
    return n;
}

static void push(ParseCtx *ctx, PtrVec *v, Ast *n)
{
    if (n)
        vec_push(ctx->arena, v, n);
}

#line 251 "build-fuzz/parser.c"

#ifdef short
# undef short
#endif

/* On compilers that do not define __PTRDIFF_MAX__ etc., make sure
   <limits.h> and (if available) <stdint.h> are included
   so that the code can choose integer types of a good width.  */

#ifndef __PTRDIFF_MAX__
# include <limits.h> /* INFRINGES ON USER NAME SPACE */
# if defined __STDC_VERSION__ && 199901 <= __STDC_VERSION__
#  include <stdint.h> /* INFRINGES ON USER NAME SPACE */
#  define YY_STDINT_H
# endif
#endif

/* Narrow types that promote to a signed type and that can represent a
   signed or unsigned integer of at least N bits.  In tables they can
   save space and decrease cache pressure.  Promoting to a signed type
   helps avoid bugs in integer arithmetic.  */

#ifdef __INT_LEAST8_MAX__
typedef __INT_LEAST8_TYPE__ yytype_int8;
#elif defined YY_STDINT_H
typedef int_least8_t yytype_int8;
#else
typedef signed char yytype_int8;
#endif

#ifdef __INT_LEAST16_MAX__
typedef __INT_LEAST16_TYPE__ yytype_int16;
#elif defined YY_STDINT_H
typedef int_least16_t yytype_int16;
#else
typedef short yytype_int16;
#endif

/* Work around bug in HP-UX 11.23, which defines these macros
   incorrectly for preprocessor constants.  This workaround can likely
   be removed in 2023, as HPE has promised support for HP-UX 11.23
   (aka HP-UX 11i v2) only through the end of 2022; see Table 2 of
   <https://h20195.www2.hpe.com/V2/getpdf.aspx/4AA4-7673ENW.pdf>.  */
#ifdef __hpux
# undef UINT_LEAST8_MAX
# undef UINT_LEAST16_MAX
# define UINT_LEAST8_MAX 255
# define UINT_LEAST16_MAX 65535
#endif

#if defined __UINT_LEAST8_MAX__ && __UINT_LEAST8_MAX__ <= __INT_MAX__
typedef __UINT_LEAST8_TYPE__ yytype_uint8;
#elif (!defined __UINT_LEAST8_MAX__ && defined YY_STDINT_H \
       && UINT_LEAST8_MAX <= INT_MAX)
typedef uint_least8_t yytype_uint8;
#elif !defined __UINT_LEAST8_MAX__ && UCHAR_MAX <= INT_MAX
typedef unsigned char yytype_uint8;
#else
typedef short yytype_uint8;
#endif

#if defined __UINT_LEAST16_MAX__ && __UINT_LEAST16_MAX__ <= __INT_MAX__
typedef __UINT_LEAST16_TYPE__ yytype_uint16;
#elif (!defined __UINT_LEAST16_MAX__ && defined YY_STDINT_H \
       && UINT_LEAST16_MAX <= INT_MAX)
typedef uint_least16_t yytype_uint16;
#elif !defined __UINT_LEAST16_MAX__ && USHRT_MAX <= INT_MAX
typedef unsigned short yytype_uint16;
#else
typedef int yytype_uint16;
#endif

#ifndef YYPTRDIFF_T
# if defined __PTRDIFF_TYPE__ && defined __PTRDIFF_MAX__
#  define YYPTRDIFF_T __PTRDIFF_TYPE__
#  define YYPTRDIFF_MAXIMUM __PTRDIFF_MAX__
# elif defined PTRDIFF_MAX
#  ifndef ptrdiff_t
#   include <stddef.h> /* INFRINGES ON USER NAME SPACE */
#  endif
#  define YYPTRDIFF_T ptrdiff_t
#  define YYPTRDIFF_MAXIMUM PTRDIFF_MAX
# else
#  define YYPTRDIFF_T long
#  define YYPTRDIFF_MAXIMUM LONG_MAX
# endif
#endif

#ifndef YYSIZE_T
# ifdef __SIZE_TYPE__
#  define YYSIZE_T __SIZE_TYPE__
# elif defined size_t
#  define YYSIZE_T size_t
# elif defined __STDC_VERSION__ && 199901 <= __STDC_VERSION__
#  include <stddef.h> /* INFRINGES ON USER NAME SPACE */
#  define YYSIZE_T size_t
# else
#  define YYSIZE_T unsigned
# endif
#endif

#define YYSIZE_MAXIMUM                                  \
  YY_CAST (YYPTRDIFF_T,                                 \
           (YYPTRDIFF_MAXIMUM < YY_CAST (YYSIZE_T, -1)  \
            ? YYPTRDIFF_MAXIMUM                         \
            : YY_CAST (YYSIZE_T, -1)))

#define YYSIZEOF(X) YY_CAST (YYPTRDIFF_T, sizeof (X))


/* Stored state numbers (used for stacks). */
typedef yytype_uint8 yy_state_t;

/* State numbers in computations.  */
typedef int yy_state_fast_t;

#ifndef YY_
# if defined YYENABLE_NLS && YYENABLE_NLS
#  if ENABLE_NLS
#   include <libintl.h> /* INFRINGES ON USER NAME SPACE */
#   define YY_(Msgid) dgettext ("bison-runtime", Msgid)
#  endif
# endif
# ifndef YY_
#  define YY_(Msgid) Msgid
# endif
#endif


#ifndef YY_ATTRIBUTE_PURE
# if defined __GNUC__ && 2 < __GNUC__ + (96 <= __GNUC_MINOR__)
#  define YY_ATTRIBUTE_PURE __attribute__ ((__pure__))
# else
#  define YY_ATTRIBUTE_PURE
# endif
#endif

#ifndef YY_ATTRIBUTE_UNUSED
# if defined __GNUC__ && 2 < __GNUC__ + (7 <= __GNUC_MINOR__)
#  define YY_ATTRIBUTE_UNUSED __attribute__ ((__unused__))
# else
#  define YY_ATTRIBUTE_UNUSED
# endif
#endif

/* Suppress unused-variable warnings by "using" E.  */
#if ! defined lint || defined __GNUC__
# define YY_USE(E) ((void) (E))
#else
# define YY_USE(E) /* empty */
#endif

/* Suppress an incorrect diagnostic about yylval being uninitialized.  */
#if defined __GNUC__ && ! defined __ICC && 406 <= __GNUC__ * 100 + __GNUC_MINOR__
# if __GNUC__ * 100 + __GNUC_MINOR__ < 407
#  define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN                           \
    _Pragma ("GCC diagnostic push")                                     \
    _Pragma ("GCC diagnostic ignored \"-Wuninitialized\"")
# else
#  define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN                           \
    _Pragma ("GCC diagnostic push")                                     \
    _Pragma ("GCC diagnostic ignored \"-Wuninitialized\"")              \
    _Pragma ("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
# endif
# define YY_IGNORE_MAYBE_UNINITIALIZED_END      \
    _Pragma ("GCC diagnostic pop")
#else
# define YY_INITIAL_VALUE(Value) Value
#endif
#ifndef YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
# define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
# define YY_IGNORE_MAYBE_UNINITIALIZED_END
#endif
#ifndef YY_INITIAL_VALUE
# define YY_INITIAL_VALUE(Value) /* Nothing. */
#endif

#if defined __cplusplus && defined __GNUC__ && ! defined __ICC && 6 <= __GNUC__
# define YY_IGNORE_USELESS_CAST_BEGIN                          \
    _Pragma ("GCC diagnostic push")                            \
    _Pragma ("GCC diagnostic ignored \"-Wuseless-cast\"")
# define YY_IGNORE_USELESS_CAST_END            \
    _Pragma ("GCC diagnostic pop")
#endif
#ifndef YY_IGNORE_USELESS_CAST_BEGIN
# define YY_IGNORE_USELESS_CAST_BEGIN
# define YY_IGNORE_USELESS_CAST_END
#endif


#define YY_ASSERT(E) ((void) (0 && (E)))

#if 1

/* The parser invokes alloca or malloc; define the necessary symbols.  */

# ifdef YYSTACK_ALLOC
   /* Pacify GCC's 'empty if-body' warning.  */
#  define YYSTACK_FREE(Ptr) do { /* empty */; } while (0)
#  ifndef YYSTACK_ALLOC_MAXIMUM
    /* The OS might guarantee only one guard page at the bottom of the stack,
       and a page size can be as small as 4096 bytes.  So we cannot safely
       invoke alloca (N) if N exceeds 4096.  Use a slightly smaller number
       to allow for a few compiler-allocated temporary stack slots.  */
#   define YYSTACK_ALLOC_MAXIMUM 4032 /* reasonable circa 2006 */
#  endif
# else
#  define YYSTACK_ALLOC YYMALLOC
#  define YYSTACK_FREE YYFREE
#  ifndef YYSTACK_ALLOC_MAXIMUM
#   define YYSTACK_ALLOC_MAXIMUM YYSIZE_MAXIMUM
#  endif
#  if (defined __cplusplus && ! defined EXIT_SUCCESS \
       && ! ((defined YYMALLOC || defined malloc) \
             && (defined YYFREE || defined free)))
#   include <stdlib.h> /* INFRINGES ON USER NAME SPACE */
#   ifndef EXIT_SUCCESS
#    define EXIT_SUCCESS 0
#   endif
#  endif
#  ifndef YYMALLOC
#   define YYMALLOC malloc
#   if ! defined malloc && ! defined EXIT_SUCCESS
void *malloc (YYSIZE_T); /* INFRINGES ON USER NAME SPACE */
#   endif
#  endif
#  ifndef YYFREE
#   define YYFREE free
#   if ! defined free && ! defined EXIT_SUCCESS
void free (void *); /* INFRINGES ON USER NAME SPACE */
#   endif
#  endif
# endif
# define YYCOPY_NEEDED 1
#endif /* 1 */

#if (! defined yyoverflow \
     && (! defined __cplusplus \
         || (defined YYLTYPE_IS_TRIVIAL && YYLTYPE_IS_TRIVIAL \
             && defined YYSTYPE_IS_TRIVIAL && YYSTYPE_IS_TRIVIAL)))

/* A type that is properly aligned for any stack member.  */
union yyalloc
{
  yy_state_t yyss_alloc;
  YYSTYPE yyvs_alloc;
  YYLTYPE yyls_alloc;
};

/* The size of the maximum gap between one aligned stack and the next.  */
# define YYSTACK_GAP_MAXIMUM (YYSIZEOF (union yyalloc) - 1)

/* The size of an array large to enough to hold all stacks, each with
   N elements.  */
# define YYSTACK_BYTES(N) \
     ((N) * (YYSIZEOF (yy_state_t) + YYSIZEOF (YYSTYPE) \
             + YYSIZEOF (YYLTYPE)) \
      + 2 * YYSTACK_GAP_MAXIMUM)

# define YYCOPY_NEEDED 1

/* Relocate STACK from its old location to the new one.  The
   local variables YYSIZE and YYSTACKSIZE give the old and new number of
   elements in the stack, and YYPTR gives the new location of the
   stack.  Advance YYPTR to a properly aligned location for the next
   stack.  */
# define YYSTACK_RELOCATE(Stack_alloc, Stack)                           \
    do                                                                  \
      {                                                                 \
        YYPTRDIFF_T yynewbytes;                                         \
        YYCOPY (&yyptr->Stack_alloc, Stack, yysize);                    \
        Stack = &yyptr->Stack_alloc;                                    \
        yynewbytes = yystacksize * YYSIZEOF (*Stack) + YYSTACK_GAP_MAXIMUM; \
        yyptr += yynewbytes / YYSIZEOF (*yyptr);                        \
      }                                                                 \
    while (0)

#endif

#if defined YYCOPY_NEEDED && YYCOPY_NEEDED
/* Copy COUNT objects from SRC to DST.  The source and destination do
   not overlap.  */
# ifndef YYCOPY
#  if defined __GNUC__ && 1 < __GNUC__
#   define YYCOPY(Dst, Src, Count) \
      __builtin_memcpy (Dst, Src, YY_CAST (YYSIZE_T, (Count)) * sizeof (*(Src)))
#  else
#   define YYCOPY(Dst, Src, Count)              \
      do                                        \
        {                                       \
          YYPTRDIFF_T yyi;                      \
          for (yyi = 0; yyi < (Count); yyi++)   \
            (Dst)[yyi] = (Src)[yyi];            \
        }                                       \
      while (0)
#  endif
# endif
#endif /* !YYCOPY_NEEDED */

/* YYFINAL -- State number of the termination state.  */
#define YYFINAL  22
/* YYLAST -- Last index in YYTABLE.  */
#define YYLAST   236

/* YYNTOKENS -- Number of terminals.  */
#define YYNTOKENS  40
/* YYNNTS -- Number of nonterminals.  */
#define YYNNTS  53
/* YYNRULES -- Number of rules.  */
#define YYNRULES  130
/* YYNSTATES -- Number of states.  */
#define YYNSTATES  233

/* YYMAXUTOK -- Last valid token kind.  */
#define YYMAXUTOK   278


/* YYTRANSLATE(TOKEN-NUM) -- Symbol number corresponding to TOKEN-NUM
   as returned by yylex, with out-of-bounds checking.  */
#define YYTRANSLATE(YYX)                                \
  (0 <= (YYX) && (YYX) <= YYMAXUTOK                     \
   ? YY_CAST (yysymbol_kind_t, yytranslate[YYX])        \
   : YYSYMBOL_YYUNDEF)

/* YYTRANSLATE[TOKEN-NUM] -- Symbol number corresponding to TOKEN-NUM
   as returned by yylex.  */
static const yytype_int8 yytranslate[] =
{
       0,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
      31,    32,    25,    23,    35,    24,    30,    26,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,    36,    29,
       2,    37,     2,     2,    27,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,    38,     2,    39,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,    33,     2,    34,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     1,     2,     3,     4,
       5,     6,     7,     8,     9,    10,    11,    12,    13,    14,
      15,    16,    17,    18,    19,    20,    21,    22,    28
};

#if YYDEBUG
/* YYRLINE[YYN] -- Source line where rule number YYN was defined.  */
static const yytype_int16 yyrline[] =
{
       0,   171,   171,   175,   176,   181,   182,   183,   188,   189,
     190,   191,   192,   197,   201,   202,   207,   215,   216,   220,
     221,   226,   234,   235,   239,   240,   244,   245,   251,   252,
     253,   261,   266,   271,   276,   283,   284,   288,   289,   290,
     296,   300,   310,   311,   316,   323,   324,   328,   329,   334,
     340,   341,   347,   352,   359,   360,   364,   365,   366,   373,
     377,   382,   387,   391,   395,   402,   403,   407,   408,   409,
     414,   419,   429,   430,   435,   442,   443,   447,   448,   449,
     453,   461,   469,   470,   474,   475,   479,   480,   481,   488,
     492,   497,   506,   507,   511,   512,   516,   517,   521,   522,
     531,   536,   541,   542,   543,   544,   545,   546,   547,   553,
     554,   555,   556,   560,   561,   567,   568,   569,   570,   571,
     572,   577,   578,   579,   580,   584,   585,   589,   590,   595,
     596
};
#endif

/** Accessing symbol of state STATE.  */
#define YY_ACCESSING_SYMBOL(State) YY_CAST (yysymbol_kind_t, yystos[State])

#if 1
/* The user-facing name of the symbol whose (internal) number is
   YYSYMBOL.  No bounds checking.  */
static const char *yysymbol_name (yysymbol_kind_t yysymbol) YY_ATTRIBUTE_UNUSED;

static const char *
yysymbol_name (yysymbol_kind_t yysymbol)
{
  static const char *const yy_sname[] =
  {
  "end of file", "error", "invalid token", "identifier", "number",
  "string", "use", "layer", "model", "data", "train", "param", "input",
  "output", "forward", "let", "return", "layers", "evaluate", "on",
  "every", "...", "=>", "'+'", "'-'", "'*'", "'/'", "'@'", "UMINUS", "';'",
  "'.'", "'('", "')'", "'{'", "'}'", "','", "':'", "'='", "'['", "']'",
  "$accept", "program", "item_seq", "opt_item", "item", "use", "dotted",
  "layer_def", "paramdefs", "paramdef_list", "paramdef", "opt_type_name",
  "opt_init", "layer_body", "opt_layer_stmt", "layer_stmt", "block_body",
  "opt_block_stmt", "block_stmt", "expr_list", "type", "dims", "dim_list",
  "dim", "model_def", "model_body", "opt_model_stmt", "model_stmt",
  "entries", "opt_entry", "entry", "acts", "data_def", "data_body",
  "opt_data_stmt", "data_stmt", "train_def", "opt_on", "train_body",
  "opt_train_stmt", "train_stmt", "opt_arg", "opt_every", "opt_metrics",
  "name_list", "expr", "postfix", "index_list", "index_item", "primary",
  "args", "arg_list", "arg", YY_NULLPTR
  };
  return yy_sname[yysymbol];
}
#endif

#define YYPACT_NINF (-99)

#define yypact_value_is_default(Yyn) \
  ((Yyn) == YYPACT_NINF)

#define YYTABLE_NINF (-87)

#define yytable_value_is_error(Yyn) \
  0

/* YYPACT[STATE-NUM] -- Index in YYTABLE of the portion describing
   STATE-NUM.  */
static const yytype_int16 yypact[] =
{
     109,   -99,     6,     7,    18,    29,    32,    38,    17,   -99,
     -99,   -99,   -99,   -99,   -99,   -99,   -99,    31,    50,    52,
      56,    74,   -99,   109,    93,    99,     5,    61,   118,    78,
     -99,   -99,    77,    82,    72,   -99,   -99,    87,   122,   124,
     134,   148,   117,    13,   -99,   -99,   -99,   116,    34,   -99,
     -99,   -99,   -99,   -99,   118,   118,   155,    98,   -99,    57,
     151,   121,   132,    99,   118,   119,   139,   149,   131,    69,
       5,   -99,   118,    61,   -99,   -99,   137,   118,   118,   118,
     118,   118,    75,   154,   128,     9,   -99,     0,   164,    42,
     -99,   -99,   -99,   118,   -99,    14,   -99,   155,   181,   181,
     181,   118,   -99,   156,    48,   -99,   -99,   -99,   155,   -99,
     -99,   114,   114,   -99,   -99,   -99,    40,   155,   -99,   150,
     155,   157,   153,   -99,   -99,   118,   120,   -16,   -99,   118,
     170,   155,   118,    57,   -99,   155,   -99,   188,   162,   191,
      54,   -99,   -99,   158,   160,   -99,   121,   155,   128,   192,
      69,   -99,   -99,   195,   118,    58,   -99,   -99,   118,   -99,
     128,   155,   118,     9,   -99,   155,   196,   -99,   147,   -99,
     166,   197,   167,    14,   -99,    63,   118,   -99,   171,   -99,
     -99,   168,   172,   155,    40,   -99,   155,   -99,   155,   -99,
     -99,   173,   181,   174,   118,   -99,   -99,   183,   -99,   175,
     176,   -99,   155,   -99,   118,   118,   -99,   203,   -99,   178,
     181,   155,   209,   -99,    63,   192,   155,   155,   -99,   182,
     118,   184,   -99,   -99,   210,   155,   -26,   -99,    40,   118,
      71,   155,   -99
};

/* YYDEFACT[STATE-NUM] -- Default reduction number in state STATE-NUM.
   Performed when YYTABLE does not specify something else to do.  Zero
   means the default is an error.  */
static const yytype_uint8 yydefact[] =
{
       0,     7,     0,     0,     0,     0,     0,     0,     2,     3,
       6,     8,     9,    10,    11,    12,    14,    13,     0,     0,
       0,    82,     1,     0,     0,    17,     0,     0,     0,     0,
       4,    15,    22,     0,    18,    19,    58,     0,     0,     0,
       0,     0,     0,     0,    54,    57,    79,     0,     0,    75,
      78,   123,   121,   122,     0,     0,    83,   108,   109,     0,
       0,    24,     0,     0,     0,     0,     0,     0,     0,     0,
       0,    53,     0,     0,    74,   107,     0,     0,     0,     0,
       0,     0,     0,     0,   125,     0,    88,    92,     0,     0,
      84,    87,    23,     0,    21,     0,    20,    64,     0,     0,
       0,     0,    69,    72,     0,    65,    68,    55,    80,    76,
     124,   102,   103,   104,   105,   106,     0,   100,   111,   123,
     129,     0,   126,   127,   116,   117,   115,     0,   113,     0,
      94,    93,     0,     0,    81,    25,    30,     0,     0,     0,
       0,    26,    29,     0,     0,    59,    24,    63,   125,    70,
       0,    62,    39,     0,     0,     0,    35,    38,     0,   110,
       0,   119,   118,     0,   112,    89,     0,    90,    94,    85,
       0,     0,     0,     0,    16,    45,     0,    60,     0,    73,
      66,     0,    41,    42,     0,   101,   130,   128,   120,   114,
      95,    96,     0,     0,     0,    27,    50,    49,    52,     0,
      46,    47,    61,    72,     0,     0,    36,     0,    91,     0,
       0,    34,     0,    44,     0,    71,    40,    43,    98,    97,
       0,     0,    51,    48,     0,    31,     0,    99,     0,     0,
       0,    32,    33
};

/* YYPGOTO[NTERM-NUM].  */
static const yytype_int16 yypgoto[] =
{
     -99,   -99,   -99,   198,   -99,   -99,   -99,   -99,   -99,   -99,
     159,   -99,    73,   -99,    45,   -99,    -8,    39,   -99,   -99,
     -98,   -99,   -99,    10,   -99,   -99,   161,   -99,   -99,    76,
     -99,    22,   -99,   -99,   163,   -99,   -99,   -99,   -99,    94,
     -99,   -99,    60,   -99,   -99,   -28,   -99,   -99,    66,   -99,
      84,   -99,    70
};

/* YYDEFGOTO[NTERM-NUM].  */
static const yytype_uint8 yydefgoto[] =
{
       0,     7,     8,     9,    10,    11,    17,    12,    33,    34,
      35,    61,    94,   140,   141,   142,   155,   156,   157,   182,
     144,   199,   200,   201,    13,    43,    44,    45,   104,   105,
     106,   149,    14,    48,    49,    50,    15,    29,    89,    90,
      91,   130,   167,   208,   219,   120,    57,   127,   128,    58,
     121,   122,   123
};

/* YYTABLE[YYPACT[STATE-NUM]] -- What to do in state STATE-NUM.  If
   positive, shift that token.  If negative, reduce the rule whose
   number is the opposite.  If YYTABLE_NINF, syntax error.  */
static const yytype_int16 yytable[] =
{
      56,   145,   146,    51,    52,    53,    36,   228,    37,    16,
      18,   229,    51,    52,    53,   136,    38,    39,    40,   163,
      41,    19,    42,   164,    54,   137,    75,    76,   138,   139,
     124,    55,    20,    54,   -56,    21,    97,   129,    22,   -56,
      55,   152,    70,   -28,   108,   125,    23,    71,   -28,   111,
     112,   113,   114,   115,   117,   153,   154,   126,    86,   131,
      87,    24,    46,    73,    47,   135,   196,   197,    74,   -37,
     102,   133,   103,   147,   -37,    88,   134,   150,    51,    52,
      53,    25,   151,   173,   198,    26,   -86,   184,   174,    27,
     -77,   -86,   185,    28,   209,   -77,    31,   161,   -67,    54,
     184,   165,    32,   -67,   168,   232,    55,    63,   116,    -5,
       1,    59,   221,    60,    62,     2,     3,     4,     5,     6,
      82,    51,    52,    53,    64,    65,   183,    66,    83,    84,
     186,   119,    52,    53,   188,   126,    85,    67,    -5,    79,
      80,    81,    54,    77,    78,    79,    80,    81,   202,    55,
      69,    68,    54,    72,    92,    98,   162,   118,    93,    55,
      77,    78,    79,    80,    81,    95,   211,   166,   101,   110,
      77,    78,    79,    80,    81,    99,   216,   217,    77,    78,
      79,    80,    81,   132,   143,   100,   158,   148,   160,   159,
     166,   170,   225,   171,   172,   179,   175,   176,   181,   190,
     193,   231,   192,   203,   194,   204,   218,   205,   212,   207,
     210,   214,   222,   227,   213,   220,   226,   224,   195,   177,
     230,    30,    96,   206,   223,   215,   180,   169,   191,   189,
     187,   107,   178,     0,     0,     0,   109
};

static const yytype_int16 yycheck[] =
{
      28,    99,   100,     3,     4,     5,     1,    33,     3,     3,
       3,    37,     3,     4,     5,     1,    11,    12,    13,    35,
      15,     3,    17,    39,    24,    11,    54,    55,    14,    15,
      21,    31,     3,    24,    29,     3,    64,    37,     0,    34,
      31,     1,    29,    29,    72,    36,    29,    34,    34,    77,
      78,    79,    80,    81,    82,    15,    16,    85,     1,    87,
       3,    30,     1,    29,     3,    93,     3,     4,    34,    29,
       1,    29,     3,   101,    34,    18,    34,    29,     3,     4,
       5,    31,    34,    29,    21,    33,    29,    29,    34,    33,
      29,    34,    34,    19,   192,    34,     3,   125,    29,    24,
      29,   129,     3,    34,   132,    34,    31,    35,    33,     0,
       1,    33,   210,    36,    32,     6,     7,     8,     9,    10,
      22,     3,     4,     5,    37,     3,   154,     3,    30,    31,
     158,     3,     4,     5,   162,   163,    38,     3,    29,    25,
      26,    27,    24,    23,    24,    25,    26,    27,   176,    31,
      33,     3,    24,    37,     3,    36,    36,     3,    37,    31,
      23,    24,    25,    26,    27,    33,   194,    20,    37,    32,
      23,    24,    25,    26,    27,    36,   204,   205,    23,    24,
      25,    26,    27,    19,     3,    36,    36,    31,    35,    32,
      20,     3,   220,    31,     3,     3,    38,    37,     3,     3,
       3,   229,    36,    32,    37,    37,     3,    35,    25,    36,
      36,    35,     3,     3,    39,    37,    32,    35,   173,   146,
     228,    23,    63,   184,   214,   203,   150,   133,   168,   163,
     160,    70,   148,    -1,    -1,    -1,    73
};

/* YYSTOS[STATE-NUM] -- The symbol kind of the accessing symbol of
   state STATE-NUM.  */
static const yytype_int8 yystos[] =
{
       0,     1,     6,     7,     8,     9,    10,    41,    42,    43,
      44,    45,    47,    64,    72,    76,     3,    46,     3,     3,
       3,     3,     0,    29,    30,    31,    33,    33,    19,    77,
      43,     3,     3,    48,    49,    50,     1,     3,    11,    12,
      13,    15,    17,    65,    66,    67,     1,     3,    73,    74,
      75,     3,     4,     5,    24,    31,    85,    86,    89,    33,
      36,    51,    32,    35,    37,     3,     3,     3,     3,    33,
      29,    34,    37,    29,    34,    85,    85,    23,    24,    25,
      26,    27,    22,    30,    31,    38,     1,     3,    18,    78,
      79,    80,     3,    37,    52,    33,    50,    85,    36,    36,
      36,    37,     1,     3,    68,    69,    70,    66,    85,    74,
      32,    85,    85,    85,    85,    85,    33,    85,     3,     3,
      85,    90,    91,    92,    21,    36,    85,    87,    88,    37,
      81,    85,    19,    29,    34,    85,     1,    11,    14,    15,
      53,    54,    55,     3,    60,    60,    60,    85,    31,    71,
      29,    34,     1,    15,    16,    56,    57,    58,    36,    32,
      35,    85,    36,    35,    39,    85,    20,    82,    85,    79,
       3,    31,     3,    29,    34,    38,    37,    52,    90,     3,
      69,     3,    59,    85,    29,    34,    85,    92,    85,    88,
       3,    82,    36,     3,    37,    54,     3,     4,    21,    61,
      62,    63,    85,    32,    37,    35,    57,    36,    83,    60,
      36,    85,    25,    39,    35,    71,    85,    85,     3,    84,
      37,    60,     3,    63,    35,    85,    32,     3,    33,    37,
      56,    85,    34
};

/* YYR1[RULE-NUM] -- Symbol kind of the left-hand side of rule RULE-NUM.  */
static const yytype_int8 yyr1[] =
{
       0,    40,    41,    42,    42,    43,    43,    43,    44,    44,
      44,    44,    44,    45,    46,    46,    47,    48,    48,    49,
      49,    50,    51,    51,    52,    52,    53,    53,    54,    54,
      54,    55,    55,    55,    55,    56,    56,    57,    57,    57,
      58,    58,    59,    59,    60,    61,    61,    62,    62,    63,
      63,    63,    63,    64,    65,    65,    66,    66,    66,    67,
      67,    67,    67,    67,    67,    68,    68,    69,    69,    69,
      70,    70,    71,    71,    72,    73,    73,    74,    74,    74,
      75,    76,    77,    77,    78,    78,    79,    79,    79,    80,
      80,    80,    81,    81,    82,    82,    83,    83,    84,    84,
      85,    85,    85,    85,    85,    85,    85,    85,    85,    86,
      86,    86,    86,    87,    87,    88,    88,    88,    88,    88,
      88,    89,    89,    89,    89,    90,    90,    91,    91,    92,
      92
};

/* YYR2[RULE-NUM] -- Number of symbols on the right-hand side of rule RULE-NUM.  */
static const yytype_int8 yyr2[] =
{
       0,     2,     1,     1,     3,     0,     1,     1,     1,     1,
       1,     1,     1,     2,     1,     3,     8,     0,     1,     1,
       3,     3,     0,     2,     0,     2,     1,     3,     0,     1,
       1,     6,     8,     9,     4,     1,     3,     0,     1,     1,
       4,     2,     1,     3,     4,     0,     1,     1,     3,     1,
       1,     3,     1,     5,     1,     3,     0,     1,     1,     4,
       5,     6,     4,     4,     3,     1,     3,     0,     1,     1,
       2,     5,     0,     2,     5,     1,     3,     0,     1,     1,
       3,     6,     0,     2,     1,     3,     0,     1,     1,     3,
       3,     5,     0,     1,     0,     2,     0,     2,     1,     3,
       3,     5,     3,     3,     3,     3,     3,     2,     1,     1,
       4,     3,     4,     1,     3,     1,     1,     1,     2,     2,
       3,     1,     1,     1,     3,     0,     1,     1,     3,     1,
       3
};


enum { YYENOMEM = -2 };

#define yyerrok         (yyerrstatus = 0)
#define yyclearin       (yychar = YYEMPTY)

#define YYACCEPT        goto yyacceptlab
#define YYABORT         goto yyabortlab
#define YYERROR         goto yyerrorlab
#define YYNOMEM         goto yyexhaustedlab


#define YYRECOVERING()  (!!yyerrstatus)

#define YYBACKUP(Token, Value)                                    \
  do                                                              \
    if (yychar == YYEMPTY)                                        \
      {                                                           \
        yychar = (Token);                                         \
        yylval = (Value);                                         \
        YYPOPSTACK (yylen);                                       \
        yystate = *yyssp;                                         \
        YY_LAC_DISCARD ("YYBACKUP");                              \
        goto yybackup;                                            \
      }                                                           \
    else                                                          \
      {                                                           \
        yyerror (&yylloc, ctx, YY_("syntax error: cannot back up")); \
        YYERROR;                                                  \
      }                                                           \
  while (0)

/* Backward compatibility with an undocumented macro.
   Use YYerror or YYUNDEF. */
#define YYERRCODE YYUNDEF

/* YYLLOC_DEFAULT -- Set CURRENT to span from RHS[1] to RHS[N].
   If N is 0, then set CURRENT to the empty location which ends
   the previous symbol: RHS[0] (always defined).  */

#ifndef YYLLOC_DEFAULT
# define YYLLOC_DEFAULT(Current, Rhs, N)                                \
    do                                                                  \
      if (N)                                                            \
        {                                                               \
          (Current).first_line   = YYRHSLOC (Rhs, 1).first_line;        \
          (Current).first_column = YYRHSLOC (Rhs, 1).first_column;      \
          (Current).last_line    = YYRHSLOC (Rhs, N).last_line;         \
          (Current).last_column  = YYRHSLOC (Rhs, N).last_column;       \
        }                                                               \
      else                                                              \
        {                                                               \
          (Current).first_line   = (Current).last_line   =              \
            YYRHSLOC (Rhs, 0).last_line;                                \
          (Current).first_column = (Current).last_column =              \
            YYRHSLOC (Rhs, 0).last_column;                              \
        }                                                               \
    while (0)
#endif

#define YYRHSLOC(Rhs, K) ((Rhs)[K])


/* Enable debugging if requested.  */
#if YYDEBUG

# ifndef YYFPRINTF
#  include <stdio.h> /* INFRINGES ON USER NAME SPACE */
#  define YYFPRINTF fprintf
# endif

# define YYDPRINTF(Args)                        \
do {                                            \
  if (yydebug)                                  \
    YYFPRINTF Args;                             \
} while (0)


/* YYLOCATION_PRINT -- Print the location on the stream.
   This macro was not mandated originally: define only if we know
   we won't break user code: when these are the locations we know.  */

# ifndef YYLOCATION_PRINT

#  if defined YY_LOCATION_PRINT

   /* Temporary convenience wrapper in case some people defined the
      undocumented and private YY_LOCATION_PRINT macros.  */
#   define YYLOCATION_PRINT(File, Loc)  YY_LOCATION_PRINT(File, *(Loc))

#  elif defined YYLTYPE_IS_TRIVIAL && YYLTYPE_IS_TRIVIAL

/* Print *YYLOCP on YYO.  Private, do not rely on its existence. */

YY_ATTRIBUTE_UNUSED
static int
yy_location_print_ (FILE *yyo, YYLTYPE const * const yylocp)
{
  int res = 0;
  int end_col = 0 != yylocp->last_column ? yylocp->last_column - 1 : 0;
  if (0 <= yylocp->first_line)
    {
      res += YYFPRINTF (yyo, "%d", yylocp->first_line);
      if (0 <= yylocp->first_column)
        res += YYFPRINTF (yyo, ".%d", yylocp->first_column);
    }
  if (0 <= yylocp->last_line)
    {
      if (yylocp->first_line < yylocp->last_line)
        {
          res += YYFPRINTF (yyo, "-%d", yylocp->last_line);
          if (0 <= end_col)
            res += YYFPRINTF (yyo, ".%d", end_col);
        }
      else if (0 <= end_col && yylocp->first_column < end_col)
        res += YYFPRINTF (yyo, "-%d", end_col);
    }
  return res;
}

#   define YYLOCATION_PRINT  yy_location_print_

    /* Temporary convenience wrapper in case some people defined the
       undocumented and private YY_LOCATION_PRINT macros.  */
#   define YY_LOCATION_PRINT(File, Loc)  YYLOCATION_PRINT(File, &(Loc))

#  else

#   define YYLOCATION_PRINT(File, Loc) ((void) 0)
    /* Temporary convenience wrapper in case some people defined the
       undocumented and private YY_LOCATION_PRINT macros.  */
#   define YY_LOCATION_PRINT  YYLOCATION_PRINT

#  endif
# endif /* !defined YYLOCATION_PRINT */


# define YY_SYMBOL_PRINT(Title, Kind, Value, Location)                    \
do {                                                                      \
  if (yydebug)                                                            \
    {                                                                     \
      YYFPRINTF (stderr, "%s ", Title);                                   \
      yy_symbol_print (stderr,                                            \
                  Kind, Value, Location, ctx); \
      YYFPRINTF (stderr, "\n");                                           \
    }                                                                     \
} while (0)


/*-----------------------------------.
| Print this symbol's value on YYO.  |
`-----------------------------------*/

static void
yy_symbol_value_print (FILE *yyo,
                       yysymbol_kind_t yykind, YYSTYPE const * const yyvaluep, YYLTYPE const * const yylocationp, ParseCtx *ctx)
{
  FILE *yyoutput = yyo;
  YY_USE (yyoutput);
  YY_USE (yylocationp);
  YY_USE (ctx);
  if (!yyvaluep)
    return;
  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  YY_USE (yykind);
  YY_IGNORE_MAYBE_UNINITIALIZED_END
}


/*---------------------------.
| Print this symbol on YYO.  |
`---------------------------*/

static void
yy_symbol_print (FILE *yyo,
                 yysymbol_kind_t yykind, YYSTYPE const * const yyvaluep, YYLTYPE const * const yylocationp, ParseCtx *ctx)
{
  YYFPRINTF (yyo, "%s %s (",
             yykind < YYNTOKENS ? "token" : "nterm", yysymbol_name (yykind));

  YYLOCATION_PRINT (yyo, yylocationp);
  YYFPRINTF (yyo, ": ");
  yy_symbol_value_print (yyo, yykind, yyvaluep, yylocationp, ctx);
  YYFPRINTF (yyo, ")");
}

/*------------------------------------------------------------------.
| yy_stack_print -- Print the state stack from its BOTTOM up to its |
| TOP (included).                                                   |
`------------------------------------------------------------------*/

static void
yy_stack_print (yy_state_t *yybottom, yy_state_t *yytop)
{
  YYFPRINTF (stderr, "Stack now");
  for (; yybottom <= yytop; yybottom++)
    {
      int yybot = *yybottom;
      YYFPRINTF (stderr, " %d", yybot);
    }
  YYFPRINTF (stderr, "\n");
}

# define YY_STACK_PRINT(Bottom, Top)                            \
do {                                                            \
  if (yydebug)                                                  \
    yy_stack_print ((Bottom), (Top));                           \
} while (0)


/*------------------------------------------------.
| Report that the YYRULE is going to be reduced.  |
`------------------------------------------------*/

static void
yy_reduce_print (yy_state_t *yyssp, YYSTYPE *yyvsp, YYLTYPE *yylsp,
                 int yyrule, ParseCtx *ctx)
{
  int yylno = yyrline[yyrule];
  int yynrhs = yyr2[yyrule];
  int yyi;
  YYFPRINTF (stderr, "Reducing stack by rule %d (line %d):\n",
             yyrule - 1, yylno);
  /* The symbols being reduced.  */
  for (yyi = 0; yyi < yynrhs; yyi++)
    {
      YYFPRINTF (stderr, "   $%d = ", yyi + 1);
      yy_symbol_print (stderr,
                       YY_ACCESSING_SYMBOL (+yyssp[yyi + 1 - yynrhs]),
                       &yyvsp[(yyi + 1) - (yynrhs)],
                       &(yylsp[(yyi + 1) - (yynrhs)]), ctx);
      YYFPRINTF (stderr, "\n");
    }
}

# define YY_REDUCE_PRINT(Rule)          \
do {                                    \
  if (yydebug)                          \
    yy_reduce_print (yyssp, yyvsp, yylsp, Rule, ctx); \
} while (0)

/* Nonzero means print parse trace.  It is left uninitialized so that
   multiple parsers can coexist.  */
int yydebug;
#else /* !YYDEBUG */
# define YYDPRINTF(Args) ((void) 0)
# define YY_SYMBOL_PRINT(Title, Kind, Value, Location)
# define YY_STACK_PRINT(Bottom, Top)
# define YY_REDUCE_PRINT(Rule)
#endif /* !YYDEBUG */


/* YYINITDEPTH -- initial size of the parser's stacks.  */
#ifndef YYINITDEPTH
# define YYINITDEPTH 200
#endif

/* YYMAXDEPTH -- maximum size the stacks can grow to (effective only
   if the built-in stack extension method is used).

   Do not make this value too large; the results are undefined if
   YYSTACK_ALLOC_MAXIMUM < YYSTACK_BYTES (YYMAXDEPTH)
   evaluated with infinite-precision integer arithmetic.  */

#ifndef YYMAXDEPTH
# define YYMAXDEPTH 10000
#endif


/* Given a state stack such that *YYBOTTOM is its bottom, such that
   *YYTOP is either its top or is YYTOP_EMPTY to indicate an empty
   stack, and such that *YYCAPACITY is the maximum number of elements it
   can hold without a reallocation, make sure there is enough room to
   store YYADD more elements.  If not, allocate a new stack using
   YYSTACK_ALLOC, copy the existing elements, and adjust *YYBOTTOM,
   *YYTOP, and *YYCAPACITY to reflect the new capacity and memory
   location.  If *YYBOTTOM != YYBOTTOM_NO_FREE, then free the old stack
   using YYSTACK_FREE.  Return 0 if successful or if no reallocation is
   required.  Return YYENOMEM if memory is exhausted.  */
static int
yy_lac_stack_realloc (YYPTRDIFF_T *yycapacity, YYPTRDIFF_T yyadd,
#if YYDEBUG
                      char const *yydebug_prefix,
                      char const *yydebug_suffix,
#endif
                      yy_state_t **yybottom,
                      yy_state_t *yybottom_no_free,
                      yy_state_t **yytop, yy_state_t *yytop_empty)
{
  YYPTRDIFF_T yysize_old =
    *yytop == yytop_empty ? 0 : *yytop - *yybottom + 1;
  YYPTRDIFF_T yysize_new = yysize_old + yyadd;
  if (*yycapacity < yysize_new)
    {
      YYPTRDIFF_T yyalloc = 2 * yysize_new;
      yy_state_t *yybottom_new;
      /* Use YYMAXDEPTH for maximum stack size given that the stack
         should never need to grow larger than the main state stack
         needs to grow without LAC.  */
      if (YYMAXDEPTH < yysize_new)
        {
          YYDPRINTF ((stderr, "%smax size exceeded%s", yydebug_prefix,
                      yydebug_suffix));
          return YYENOMEM;
        }
      if (YYMAXDEPTH < yyalloc)
        yyalloc = YYMAXDEPTH;
      yybottom_new =
        YY_CAST (yy_state_t *,
                 YYSTACK_ALLOC (YY_CAST (YYSIZE_T,
                                         yyalloc * YYSIZEOF (*yybottom_new))));
      if (!yybottom_new)
        {
          YYDPRINTF ((stderr, "%srealloc failed%s", yydebug_prefix,
                      yydebug_suffix));
          return YYENOMEM;
        }
      if (*yytop != yytop_empty)
        {
          YYCOPY (yybottom_new, *yybottom, yysize_old);
          *yytop = yybottom_new + (yysize_old - 1);
        }
      if (*yybottom != yybottom_no_free)
        YYSTACK_FREE (*yybottom);
      *yybottom = yybottom_new;
      *yycapacity = yyalloc;
    }
  return 0;
}

/* Establish the initial context for the current lookahead if no initial
   context is currently established.

   We define a context as a snapshot of the parser stacks.  We define
   the initial context for a lookahead as the context in which the
   parser initially examines that lookahead in order to select a
   syntactic action.  Thus, if the lookahead eventually proves
   syntactically unacceptable (possibly in a later context reached via a
   series of reductions), the initial context can be used to determine
   the exact set of tokens that would be syntactically acceptable in the
   lookahead's place.  Moreover, it is the context after which any
   further semantic actions would be erroneous because they would be
   determined by a syntactically unacceptable token.

   YY_LAC_ESTABLISH should be invoked when a reduction is about to be
   performed in an inconsistent state (which, for the purposes of LAC,
   includes consistent states that don't know they're consistent because
   their default reductions have been disabled).  Iff there is a
   lookahead token, it should also be invoked before reporting a syntax
   error.  This latter case is for the sake of the debugging output.

   For parse.lac=full, the implementation of YY_LAC_ESTABLISH is as
   follows.  If no initial context is currently established for the
   current lookahead, then check if that lookahead can eventually be
   shifted if syntactic actions continue from the current context.
   Report a syntax error if it cannot.  */
#define YY_LAC_ESTABLISH                                                \
do {                                                                    \
  if (!yy_lac_established)                                              \
    {                                                                   \
      YYDPRINTF ((stderr,                                               \
                  "LAC: initial context established for %s\n",          \
                  yysymbol_name (yytoken)));                            \
      yy_lac_established = 1;                                           \
      switch (yy_lac (yyesa, &yyes, &yyes_capacity, yyssp, yytoken))    \
        {                                                               \
        case YYENOMEM:                                                  \
          YYNOMEM;                                                      \
        case 1:                                                         \
          goto yyerrlab;                                                \
        }                                                               \
    }                                                                   \
} while (0)

/* Discard any previous initial lookahead context because of Event,
   which may be a lookahead change or an invalidation of the currently
   established initial context for the current lookahead.

   The most common example of a lookahead change is a shift.  An example
   of both cases is syntax error recovery.  That is, a syntax error
   occurs when the lookahead is syntactically erroneous for the
   currently established initial context, so error recovery manipulates
   the parser stacks to try to find a new initial context in which the
   current lookahead is syntactically acceptable.  If it fails to find
   such a context, it discards the lookahead.  */
#if YYDEBUG
# define YY_LAC_DISCARD(Event)                                           \
do {                                                                     \
  if (yy_lac_established)                                                \
    {                                                                    \
      YYDPRINTF ((stderr, "LAC: initial context discarded due to "       \
                  Event "\n"));                                          \
      yy_lac_established = 0;                                            \
    }                                                                    \
} while (0)
#else
# define YY_LAC_DISCARD(Event) yy_lac_established = 0
#endif

/* Given the stack whose top is *YYSSP, return 0 iff YYTOKEN can
   eventually (after perhaps some reductions) be shifted, return 1 if
   not, or return YYENOMEM if memory is exhausted.  As preconditions and
   postconditions: *YYES_CAPACITY is the allocated size of the array to
   which *YYES points, and either *YYES = YYESA or *YYES points to an
   array allocated with YYSTACK_ALLOC.  yy_lac may overwrite the
   contents of either array, alter *YYES and *YYES_CAPACITY, and free
   any old *YYES other than YYESA.  */
static int
yy_lac (yy_state_t *yyesa, yy_state_t **yyes,
        YYPTRDIFF_T *yyes_capacity, yy_state_t *yyssp, yysymbol_kind_t yytoken)
{
  yy_state_t *yyes_prev = yyssp;
  yy_state_t *yyesp = yyes_prev;
  /* Reduce until we encounter a shift and thereby accept the token.  */
  YYDPRINTF ((stderr, "LAC: checking lookahead %s:", yysymbol_name (yytoken)));
  if (yytoken == YYSYMBOL_YYUNDEF)
    {
      YYDPRINTF ((stderr, " Always Err\n"));
      return 1;
    }
  while (1)
    {
      int yyrule = yypact[+*yyesp];
      if (yypact_value_is_default (yyrule)
          || (yyrule += yytoken) < 0 || YYLAST < yyrule
          || yycheck[yyrule] != yytoken)
        {
          /* Use the default action.  */
          yyrule = yydefact[+*yyesp];
          if (yyrule == 0)
            {
              YYDPRINTF ((stderr, " Err\n"));
              return 1;
            }
        }
      else
        {
          /* Use the action from yytable.  */
          yyrule = yytable[yyrule];
          if (yytable_value_is_error (yyrule))
            {
              YYDPRINTF ((stderr, " Err\n"));
              return 1;
            }
          if (0 < yyrule)
            {
              YYDPRINTF ((stderr, " S%d\n", yyrule));
              return 0;
            }
          yyrule = -yyrule;
        }
      /* By now we know we have to simulate a reduce.  */
      YYDPRINTF ((stderr, " R%d", yyrule - 1));
      {
        /* Pop the corresponding number of values from the stack.  */
        YYPTRDIFF_T yylen = yyr2[yyrule];
        /* First pop from the LAC stack as many tokens as possible.  */
        if (yyesp != yyes_prev)
          {
            YYPTRDIFF_T yysize = yyesp - *yyes + 1;
            if (yylen < yysize)
              {
                yyesp -= yylen;
                yylen = 0;
              }
            else
              {
                yyesp = yyes_prev;
                yylen -= yysize;
              }
          }
        /* Only afterwards look at the main stack.  */
        if (yylen)
          yyesp = yyes_prev -= yylen;
      }
      /* Push the resulting state of the reduction.  */
      {
        yy_state_fast_t yystate;
        {
          const int yylhs = yyr1[yyrule] - YYNTOKENS;
          const int yyi = yypgoto[yylhs] + *yyesp;
          yystate = (0 <= yyi && yyi <= YYLAST && yycheck[yyi] == *yyesp
                     ? yytable[yyi]
                     : yydefgoto[yylhs]);
        }
        if (yyesp == yyes_prev)
          {
            yyesp = *yyes;
            YY_IGNORE_USELESS_CAST_BEGIN
            *yyesp = YY_CAST (yy_state_t, yystate);
            YY_IGNORE_USELESS_CAST_END
          }
        else
          {
            if (yy_lac_stack_realloc (yyes_capacity, 1,
#if YYDEBUG
                                      " (", ")",
#endif
                                      yyes, yyesa, &yyesp, yyes_prev))
              {
                YYDPRINTF ((stderr, "\n"));
                return YYENOMEM;
              }
            YY_IGNORE_USELESS_CAST_BEGIN
            *++yyesp = YY_CAST (yy_state_t, yystate);
            YY_IGNORE_USELESS_CAST_END
          }
        YYDPRINTF ((stderr, " G%d", yystate));
      }
    }
}

/* Context of a parse error.  */
typedef struct
{
  yy_state_t *yyssp;
  yy_state_t *yyesa;
  yy_state_t **yyes;
  YYPTRDIFF_T *yyes_capacity;
  yysymbol_kind_t yytoken;
  YYLTYPE *yylloc;
} yypcontext_t;

/* Put in YYARG at most YYARGN of the expected tokens given the
   current YYCTX, and return the number of tokens stored in YYARG.  If
   YYARG is null, return the number of expected tokens (guaranteed to
   be less than YYNTOKENS).  Return YYENOMEM on memory exhaustion.
   Return 0 if there are more than YYARGN expected tokens, yet fill
   YYARG up to YYARGN. */
static int
yypcontext_expected_tokens (const yypcontext_t *yyctx,
                            yysymbol_kind_t yyarg[], int yyargn)
{
  /* Actual size of YYARG. */
  int yycount = 0;

  int yyx;
  for (yyx = 0; yyx < YYNTOKENS; ++yyx)
    {
      yysymbol_kind_t yysym = YY_CAST (yysymbol_kind_t, yyx);
      if (yysym != YYSYMBOL_YYerror && yysym != YYSYMBOL_YYUNDEF)
        switch (yy_lac (yyctx->yyesa, yyctx->yyes, yyctx->yyes_capacity, yyctx->yyssp, yysym))
          {
          case YYENOMEM:
            return YYENOMEM;
          case 1:
            continue;
          default:
            if (!yyarg)
              ++yycount;
            else if (yycount == yyargn)
              return 0;
            else
              yyarg[yycount++] = yysym;
          }
    }
  if (yyarg && yycount == 0 && 0 < yyargn)
    yyarg[0] = YYSYMBOL_YYEMPTY;
  return yycount;
}




/* The kind of the lookahead of this context.  */
static yysymbol_kind_t
yypcontext_token (const yypcontext_t *yyctx) YY_ATTRIBUTE_UNUSED;

static yysymbol_kind_t
yypcontext_token (const yypcontext_t *yyctx)
{
  return yyctx->yytoken;
}

/* The location of the lookahead of this context.  */
static YYLTYPE *
yypcontext_location (const yypcontext_t *yyctx) YY_ATTRIBUTE_UNUSED;

static YYLTYPE *
yypcontext_location (const yypcontext_t *yyctx)
{
  return yyctx->yylloc;
}

/* User defined function to report a syntax error.  */
static int
yyreport_syntax_error (const yypcontext_t *yyctx, ParseCtx *ctx);

/*-----------------------------------------------.
| Release the memory associated to this symbol.  |
`-----------------------------------------------*/

static void
yydestruct (const char *yymsg,
            yysymbol_kind_t yykind, YYSTYPE *yyvaluep, YYLTYPE *yylocationp, ParseCtx *ctx)
{
  YY_USE (yyvaluep);
  YY_USE (yylocationp);
  YY_USE (ctx);
  if (!yymsg)
    yymsg = "Deleting";
  YY_SYMBOL_PRINT (yymsg, yykind, yyvaluep, yylocationp);

  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  YY_USE (yykind);
  YY_IGNORE_MAYBE_UNINITIALIZED_END
}






/*----------.
| yyparse.  |
`----------*/

int
yyparse (ParseCtx *ctx)
{
/* Lookahead token kind.  */
int yychar;


/* The semantic value of the lookahead symbol.  */
/* Default value used for initialization, for pacifying older GCCs
   or non-GCC compilers.  */
YY_INITIAL_VALUE (static YYSTYPE yyval_default;)
YYSTYPE yylval YY_INITIAL_VALUE (= yyval_default);

/* Location data for the lookahead symbol.  */
static YYLTYPE yyloc_default
# if defined YYLTYPE_IS_TRIVIAL && YYLTYPE_IS_TRIVIAL
  = { 1, 1, 1, 1 }
# endif
;
YYLTYPE yylloc = yyloc_default;

    /* Number of syntax errors so far.  */
    int yynerrs = 0;

    yy_state_fast_t yystate = 0;
    /* Number of tokens to shift before error messages enabled.  */
    int yyerrstatus = 0;

    /* Refer to the stacks through separate pointers, to allow yyoverflow
       to reallocate them elsewhere.  */

    /* Their size.  */
    YYPTRDIFF_T yystacksize = YYINITDEPTH;

    /* The state stack: array, bottom, top.  */
    yy_state_t yyssa[YYINITDEPTH];
    yy_state_t *yyss = yyssa;
    yy_state_t *yyssp = yyss;

    /* The semantic value stack: array, bottom, top.  */
    YYSTYPE yyvsa[YYINITDEPTH];
    YYSTYPE *yyvs = yyvsa;
    YYSTYPE *yyvsp = yyvs;

    /* The location stack: array, bottom, top.  */
    YYLTYPE yylsa[YYINITDEPTH];
    YYLTYPE *yyls = yylsa;
    YYLTYPE *yylsp = yyls;

    yy_state_t yyesa[20];
    yy_state_t *yyes = yyesa;
    YYPTRDIFF_T yyes_capacity = 20 < YYMAXDEPTH ? 20 : YYMAXDEPTH;

  /* Whether LAC context is established.  A Boolean.  */
  int yy_lac_established = 0;
  int yyn;
  /* The return value of yyparse.  */
  int yyresult;
  /* Lookahead symbol kind.  */
  yysymbol_kind_t yytoken = YYSYMBOL_YYEMPTY;
  /* The variables used to return semantic value and location from the
     action routines.  */
  YYSTYPE yyval;
  YYLTYPE yyloc;

  /* The locations where the error started and ended.  */
  YYLTYPE yyerror_range[3];



#define YYPOPSTACK(N)   (yyvsp -= (N), yyssp -= (N), yylsp -= (N))

  /* The number of symbols on the RHS of the reduced rule.
     Keep to zero when no symbol should be popped.  */
  int yylen = 0;

  YYDPRINTF ((stderr, "Starting parse\n"));

  yychar = YYEMPTY; /* Cause a token to be read.  */


/* User initialization code.  */
#line 135 "lang/parser.y"
{
    yylloc = (Span){ctx->file, 1, 1, 1, 0};
}

#line 1588 "build-fuzz/parser.c"

  yylsp[0] = yylloc;
  goto yysetstate;


/*------------------------------------------------------------.
| yynewstate -- push a new state, which is found in yystate.  |
`------------------------------------------------------------*/
yynewstate:
  /* In all cases, when you get here, the value and location stacks
     have just been pushed.  So pushing a state here evens the stacks.  */
  yyssp++;


/*--------------------------------------------------------------------.
| yysetstate -- set current state (the top of the stack) to yystate.  |
`--------------------------------------------------------------------*/
yysetstate:
  YYDPRINTF ((stderr, "Entering state %d\n", yystate));
  YY_ASSERT (0 <= yystate && yystate < YYNSTATES);
  YY_IGNORE_USELESS_CAST_BEGIN
  *yyssp = YY_CAST (yy_state_t, yystate);
  YY_IGNORE_USELESS_CAST_END
  YY_STACK_PRINT (yyss, yyssp);

  if (yyss + yystacksize - 1 <= yyssp)
#if !defined yyoverflow && !defined YYSTACK_RELOCATE
    YYNOMEM;
#else
    {
      /* Get the current used size of the three stacks, in elements.  */
      YYPTRDIFF_T yysize = yyssp - yyss + 1;

# if defined yyoverflow
      {
        /* Give user a chance to reallocate the stack.  Use copies of
           these so that the &'s don't force the real ones into
           memory.  */
        yy_state_t *yyss1 = yyss;
        YYSTYPE *yyvs1 = yyvs;
        YYLTYPE *yyls1 = yyls;

        /* Each stack pointer address is followed by the size of the
           data in use in that stack, in bytes.  This used to be a
           conditional around just the two extra args, but that might
           be undefined if yyoverflow is a macro.  */
        yyoverflow (YY_("memory exhausted"),
                    &yyss1, yysize * YYSIZEOF (*yyssp),
                    &yyvs1, yysize * YYSIZEOF (*yyvsp),
                    &yyls1, yysize * YYSIZEOF (*yylsp),
                    &yystacksize);
        yyss = yyss1;
        yyvs = yyvs1;
        yyls = yyls1;
      }
# else /* defined YYSTACK_RELOCATE */
      /* Extend the stack our own way.  */
      if (YYMAXDEPTH <= yystacksize)
        YYNOMEM;
      yystacksize *= 2;
      if (YYMAXDEPTH < yystacksize)
        yystacksize = YYMAXDEPTH;

      {
        yy_state_t *yyss1 = yyss;
        union yyalloc *yyptr =
          YY_CAST (union yyalloc *,
                   YYSTACK_ALLOC (YY_CAST (YYSIZE_T, YYSTACK_BYTES (yystacksize))));
        if (! yyptr)
          YYNOMEM;
        YYSTACK_RELOCATE (yyss_alloc, yyss);
        YYSTACK_RELOCATE (yyvs_alloc, yyvs);
        YYSTACK_RELOCATE (yyls_alloc, yyls);
#  undef YYSTACK_RELOCATE
        if (yyss1 != yyssa)
          YYSTACK_FREE (yyss1);
      }
# endif

      yyssp = yyss + yysize - 1;
      yyvsp = yyvs + yysize - 1;
      yylsp = yyls + yysize - 1;

      YY_IGNORE_USELESS_CAST_BEGIN
      YYDPRINTF ((stderr, "Stack size increased to %ld\n",
                  YY_CAST (long, yystacksize)));
      YY_IGNORE_USELESS_CAST_END

      if (yyss + yystacksize - 1 <= yyssp)
        YYABORT;
    }
#endif /* !defined yyoverflow && !defined YYSTACK_RELOCATE */


  if (yystate == YYFINAL)
    YYACCEPT;

  goto yybackup;


/*-----------.
| yybackup.  |
`-----------*/
yybackup:
  /* Do appropriate processing given the current state.  Read a
     lookahead token if we need one and don't already have one.  */

  /* First try to decide what to do without reference to lookahead token.  */
  yyn = yypact[yystate];
  if (yypact_value_is_default (yyn))
    goto yydefault;

  /* Not known => get a lookahead token if don't already have one.  */

  /* YYCHAR is either empty, or end-of-input, or a valid lookahead.  */
  if (yychar == YYEMPTY)
    {
      YYDPRINTF ((stderr, "Reading a token\n"));
      yychar = yylex (&yylval, &yylloc, ctx);
    }

  if (yychar <= END)
    {
      yychar = END;
      yytoken = YYSYMBOL_YYEOF;
      YYDPRINTF ((stderr, "Now at end of input.\n"));
    }
  else if (yychar == YYerror)
    {
      /* The scanner already issued an error message, process directly
         to error recovery.  But do not keep the error token as
         lookahead, it is too special and may lead us to an endless
         loop in error recovery. */
      yychar = YYUNDEF;
      yytoken = YYSYMBOL_YYerror;
      yyerror_range[1] = yylloc;
      goto yyerrlab1;
    }
  else
    {
      yytoken = YYTRANSLATE (yychar);
      YY_SYMBOL_PRINT ("Next token is", yytoken, &yylval, &yylloc);
    }

  /* If the proper action on seeing token YYTOKEN is to reduce or to
     detect an error, take that action.  */
  yyn += yytoken;
  if (yyn < 0 || YYLAST < yyn || yycheck[yyn] != yytoken)
    {
      YY_LAC_ESTABLISH;
      goto yydefault;
    }
  yyn = yytable[yyn];
  if (yyn <= 0)
    {
      if (yytable_value_is_error (yyn))
        goto yyerrlab;
      yyn = -yyn;
      YY_LAC_ESTABLISH;
      goto yyreduce;
    }

  /* Count tokens shifted since error; after three, turn off error
     status.  */
  if (yyerrstatus)
    yyerrstatus--;

  /* Shift the lookahead token.  */
  YY_SYMBOL_PRINT ("Shifting", yytoken, &yylval, &yylloc);
  yystate = yyn;
  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  *++yyvsp = yylval;
  YY_IGNORE_MAYBE_UNINITIALIZED_END
  *++yylsp = yylloc;

  /* Discard the shifted token.  */
  yychar = YYEMPTY;
  YY_LAC_DISCARD ("shift");
  goto yynewstate;


/*-----------------------------------------------------------.
| yydefault -- do the default action for the current state.  |
`-----------------------------------------------------------*/
yydefault:
  yyn = yydefact[yystate];
  if (yyn == 0)
    goto yyerrlab;
  goto yyreduce;


/*-----------------------------.
| yyreduce -- do a reduction.  |
`-----------------------------*/
yyreduce:
  /* yyn is the number of a rule to reduce with.  */
  yylen = yyr2[yyn];

  /* If YYLEN is nonzero, implement the default value of the action:
     '$$ = $1'.

     Otherwise, the following line sets YYVAL to garbage.
     This behavior is undocumented and Bison
     users should not rely upon it.  Assigning to YYVAL
     unconditionally makes the parser a bit smaller, and it avoids a
     GCC warning that YYVAL may be used uninitialized.  */
  yyval = yyvsp[1-yylen];

  /* Default location. */
  YYLLOC_DEFAULT (yyloc, (yylsp - yylen), yylen);
  yyerror_range[1] = yyloc;
  YY_REDUCE_PRINT (yyn);
  {
    int yychar_backup = yychar;
    switch (yyn)
      {
  case 6: /* opt_item: item  */
#line 182 "lang/parser.y"
                    { push(ctx, &ctx->program->body, (yyvsp[0].ast)); }
#line 1808 "build-fuzz/parser.c"
    break;

  case 13: /* use: "use" dotted  */
#line 197 "lang/parser.y"
                    { (yyval.ast) = (yyvsp[0].ast); (yyval.ast)->span = (yyloc); }
#line 1814 "build-fuzz/parser.c"
    break;

  case 14: /* dotted: "identifier"  */
#line 201 "lang/parser.y"
                        { (yyval.ast) = named(ctx, AST_USE, (yyloc), (yyvsp[0].s)); }
#line 1820 "build-fuzz/parser.c"
    break;

  case 15: /* dotted: dotted '.' "identifier"  */
#line 202 "lang/parser.y"
                        { (yyval.ast) = (yyvsp[-2].ast); (yyval.ast)->name = arena_printf(ctx->arena, "%s.%s", (yyvsp[-2].ast)->name, (yyvsp[0].s)); }
#line 1826 "build-fuzz/parser.c"
    break;

  case 16: /* layer_def: "layer" "identifier" '(' paramdefs ')' '{' layer_body '}'  */
#line 207 "lang/parser.y"
                                                       {
        (yyval.ast) = named(ctx, AST_LAYER_DEF, (yyloc), (yyvsp[-6].s));
        (yyval.ast)->list = (yyvsp[-4].list);
        (yyval.ast)->body = (yyvsp[-1].list);
    }
#line 1836 "build-fuzz/parser.c"
    break;

  case 17: /* paramdefs: %empty  */
#line 215 "lang/parser.y"
                        { (yyval.list) = (PtrVec){0}; }
#line 1842 "build-fuzz/parser.c"
    break;

  case 19: /* paramdef_list: paramdef  */
#line 220 "lang/parser.y"
                                    { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 1848 "build-fuzz/parser.c"
    break;

  case 20: /* paramdef_list: paramdef_list ',' paramdef  */
#line 221 "lang/parser.y"
                                    { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 1854 "build-fuzz/parser.c"
    break;

  case 21: /* paramdef: "identifier" opt_type_name opt_init  */
#line 226 "lang/parser.y"
                                   {
        (yyval.ast) = named(ctx, AST_PARAMDEF, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->type_name = (yyvsp[-1].s);
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 1864 "build-fuzz/parser.c"
    break;

  case 22: /* opt_type_name: %empty  */
#line 234 "lang/parser.y"
                    { (yyval.s) = NULL; }
#line 1870 "build-fuzz/parser.c"
    break;

  case 23: /* opt_type_name: ':' "identifier"  */
#line 235 "lang/parser.y"
                    { (yyval.s) = (yyvsp[0].s); }
#line 1876 "build-fuzz/parser.c"
    break;

  case 24: /* opt_init: %empty  */
#line 239 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 1882 "build-fuzz/parser.c"
    break;

  case 25: /* opt_init: '=' expr  */
#line 240 "lang/parser.y"
                    { (yyval.ast) = (yyvsp[0].ast); }
#line 1888 "build-fuzz/parser.c"
    break;

  case 26: /* layer_body: opt_layer_stmt  */
#line 244 "lang/parser.y"
                                    { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 1894 "build-fuzz/parser.c"
    break;

  case 27: /* layer_body: layer_body ';' opt_layer_stmt  */
#line 245 "lang/parser.y"
                                    { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 1900 "build-fuzz/parser.c"
    break;

  case 28: /* opt_layer_stmt: %empty  */
#line 251 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 1906 "build-fuzz/parser.c"
    break;

  case 30: /* opt_layer_stmt: error  */
#line 253 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 1912 "build-fuzz/parser.c"
    break;

  case 31: /* layer_stmt: "param" "identifier" ':' type '=' expr  */
#line 261 "lang/parser.y"
                                    {
        (yyval.ast) = named(ctx, AST_PARAM, (yyloc), (yyvsp[-4].s));
        (yyval.ast)->type = (yyvsp[-2].ast);
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 1922 "build-fuzz/parser.c"
    break;

  case 32: /* layer_stmt: "forward" '(' "identifier" ':' type ')' '=' expr  */
#line 266 "lang/parser.y"
                                              {
        (yyval.ast) = named(ctx, AST_FORWARD, (yyloc), (yyvsp[-5].s));
        (yyval.ast)->type = (yyvsp[-3].ast);
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 1932 "build-fuzz/parser.c"
    break;

  case 33: /* layer_stmt: "forward" '(' "identifier" ':' type ')' '{' block_body '}'  */
#line 271 "lang/parser.y"
                                                        {
        (yyval.ast) = named(ctx, AST_FORWARD, (yyloc), (yyvsp[-6].s));
        (yyval.ast)->type = (yyvsp[-4].ast);
        (yyval.ast)->list = (yyvsp[-1].list);
    }
#line 1942 "build-fuzz/parser.c"
    break;

  case 34: /* layer_stmt: "let" "identifier" '=' expr  */
#line 276 "lang/parser.y"
                         {
        (yyval.ast) = named(ctx, AST_LET, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 1951 "build-fuzz/parser.c"
    break;

  case 35: /* block_body: opt_block_stmt  */
#line 283 "lang/parser.y"
                                    { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 1957 "build-fuzz/parser.c"
    break;

  case 36: /* block_body: block_body ';' opt_block_stmt  */
#line 284 "lang/parser.y"
                                    { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 1963 "build-fuzz/parser.c"
    break;

  case 37: /* opt_block_stmt: %empty  */
#line 288 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 1969 "build-fuzz/parser.c"
    break;

  case 39: /* opt_block_stmt: error  */
#line 290 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 1975 "build-fuzz/parser.c"
    break;

  case 40: /* block_stmt: "let" "identifier" '=' expr  */
#line 296 "lang/parser.y"
                         {
        (yyval.ast) = named(ctx, AST_LET, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 1984 "build-fuzz/parser.c"
    break;

  case 41: /* block_stmt: "return" expr_list  */
#line 300 "lang/parser.y"
                       {
        (yyval.ast) = node(ctx, AST_RETURN, (yyloc));
        if ((yyvsp[0].list).len > 1)
            (yyval.ast)->list = (yyvsp[0].list);
        else
            (yyval.ast)->value = (yyvsp[0].list).items[0];
    }
#line 1996 "build-fuzz/parser.c"
    break;

  case 42: /* expr_list: expr  */
#line 310 "lang/parser.y"
                            { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2002 "build-fuzz/parser.c"
    break;

  case 43: /* expr_list: expr_list ',' expr  */
#line 311 "lang/parser.y"
                            { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2008 "build-fuzz/parser.c"
    break;

  case 44: /* type: "identifier" '[' dims ']'  */
#line 316 "lang/parser.y"
                         {
        (yyval.ast) = named(ctx, AST_TYPE, (yyloc), (yyvsp[-3].s));
        (yyval.ast)->list = (yyvsp[-1].list);
    }
#line 2017 "build-fuzz/parser.c"
    break;

  case 45: /* dims: %empty  */
#line 323 "lang/parser.y"
                    { (yyval.list) = (PtrVec){0}; }
#line 2023 "build-fuzz/parser.c"
    break;

  case 47: /* dim_list: dim  */
#line 328 "lang/parser.y"
                        { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2029 "build-fuzz/parser.c"
    break;

  case 48: /* dim_list: dim_list ',' dim  */
#line 329 "lang/parser.y"
                        { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2035 "build-fuzz/parser.c"
    break;

  case 49: /* dim: "number"  */
#line 334 "lang/parser.y"
          {
        (yyval.ast) = (yyvsp[0].ast);
        (yyval.ast)->kind = AST_DIM;
        if (!(yyvsp[0].ast)->is_int)
            diag(DIAG_ERROR, (yylsp[0]), "a dimension must be a whole number");
    }
#line 2046 "build-fuzz/parser.c"
    break;

  case 50: /* dim: "identifier"  */
#line 340 "lang/parser.y"
                    { (yyval.ast) = named(ctx, AST_DIM, (yyloc), (yyvsp[0].s)); }
#line 2052 "build-fuzz/parser.c"
    break;

  case 51: /* dim: "number" '*' "identifier"  */
#line 341 "lang/parser.y"
                    {
        (yyval.ast) = named(ctx, AST_DIM, (yyloc), (yyvsp[0].s));
        (yyval.ast)->num = (yyvsp[-2].ast)->num;
        if (!(yyvsp[-2].ast)->is_int || (yyvsp[-2].ast)->num < 1)
            diag(DIAG_ERROR, (yylsp[-2]), "a dimension's factor must be a positive whole number");
    }
#line 2063 "build-fuzz/parser.c"
    break;

  case 52: /* dim: "..."  */
#line 347 "lang/parser.y"
                    { (yyval.ast) = node(ctx, AST_DIM, (yyloc)); (yyval.ast)->is_ellipsis = true; }
#line 2069 "build-fuzz/parser.c"
    break;

  case 53: /* model_def: "model" "identifier" '{' model_body '}'  */
#line 352 "lang/parser.y"
                                     {
        (yyval.ast) = named(ctx, AST_MODEL, (yyloc), (yyvsp[-3].s));
        (yyval.ast)->body = (yyvsp[-1].list);
    }
#line 2078 "build-fuzz/parser.c"
    break;

  case 54: /* model_body: opt_model_stmt  */
#line 359 "lang/parser.y"
                                    { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2084 "build-fuzz/parser.c"
    break;

  case 55: /* model_body: model_body ';' opt_model_stmt  */
#line 360 "lang/parser.y"
                                    { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2090 "build-fuzz/parser.c"
    break;

  case 56: /* opt_model_stmt: %empty  */
#line 364 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2096 "build-fuzz/parser.c"
    break;

  case 58: /* opt_model_stmt: error  */
#line 366 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2102 "build-fuzz/parser.c"
    break;

  case 59: /* model_stmt: "input" "identifier" ':' type  */
#line 373 "lang/parser.y"
                           {
        (yyval.ast) = named(ctx, AST_INPUT, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->type = (yyvsp[0].ast);
    }
#line 2111 "build-fuzz/parser.c"
    break;

  case 60: /* model_stmt: "output" "identifier" ':' type opt_init  */
#line 377 "lang/parser.y"
                                     {
        (yyval.ast) = named(ctx, AST_OUTPUT, (yyloc), (yyvsp[-3].s));
        (yyval.ast)->type = (yyvsp[-1].ast);
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2121 "build-fuzz/parser.c"
    break;

  case 61: /* model_stmt: "param" "identifier" ':' type '=' expr  */
#line 382 "lang/parser.y"
                                    {
        (yyval.ast) = named(ctx, AST_PARAM, (yyloc), (yyvsp[-4].s));
        (yyval.ast)->type = (yyvsp[-2].ast);
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2131 "build-fuzz/parser.c"
    break;

  case 62: /* model_stmt: "layers" '{' entries '}'  */
#line 387 "lang/parser.y"
                             {
        (yyval.ast) = node(ctx, AST_LAYERS, (yyloc));
        (yyval.ast)->list = (yyvsp[-1].list);
    }
#line 2140 "build-fuzz/parser.c"
    break;

  case 63: /* model_stmt: "let" "identifier" '=' expr  */
#line 391 "lang/parser.y"
                         {
        (yyval.ast) = named(ctx, AST_LET, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2149 "build-fuzz/parser.c"
    break;

  case 64: /* model_stmt: "identifier" '=' expr  */
#line 395 "lang/parser.y"
                     {
        (yyval.ast) = named(ctx, AST_ASSIGN, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2158 "build-fuzz/parser.c"
    break;

  case 65: /* entries: opt_entry  */
#line 402 "lang/parser.y"
                            { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2164 "build-fuzz/parser.c"
    break;

  case 66: /* entries: entries ';' opt_entry  */
#line 403 "lang/parser.y"
                            { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2170 "build-fuzz/parser.c"
    break;

  case 67: /* opt_entry: %empty  */
#line 407 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2176 "build-fuzz/parser.c"
    break;

  case 69: /* opt_entry: error  */
#line 409 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2182 "build-fuzz/parser.c"
    break;

  case 70: /* entry: "identifier" acts  */
#line 414 "lang/parser.y"
                 {
        (yyval.ast) = node(ctx, AST_LAYER_ENTRY, (yyloc));
        (yyval.ast)->value = named(ctx, AST_NAME, (yylsp[-1]), (yyvsp[-1].s));
        (yyval.ast)->list = (yyvsp[0].list);
    }
#line 2192 "build-fuzz/parser.c"
    break;

  case 71: /* entry: "identifier" '(' args ')' acts  */
#line 419 "lang/parser.y"
                              {
        (yyval.ast) = node(ctx, AST_LAYER_ENTRY, (yyloc));
        (yyval.ast)->value = node(ctx, AST_CALL, span_join((yylsp[-4]), (yylsp[-1])));
        (yyval.ast)->value->lhs = named(ctx, AST_NAME, (yylsp[-4]), (yyvsp[-4].s));
        (yyval.ast)->value->list = (yyvsp[-2].list);
        (yyval.ast)->list = (yyvsp[0].list);
    }
#line 2204 "build-fuzz/parser.c"
    break;

  case 72: /* acts: %empty  */
#line 429 "lang/parser.y"
                    { (yyval.list) = (PtrVec){0}; }
#line 2210 "build-fuzz/parser.c"
    break;

  case 73: /* acts: acts "identifier"  */
#line 430 "lang/parser.y"
                    { (yyval.list) = (yyvsp[-1].list); push(ctx, &(yyval.list), named(ctx, AST_NAME, (yylsp[0]), (yyvsp[0].s))); }
#line 2216 "build-fuzz/parser.c"
    break;

  case 74: /* data_def: "data" "identifier" '{' data_body '}'  */
#line 435 "lang/parser.y"
                                   {
        (yyval.ast) = named(ctx, AST_DATA, (yyloc), (yyvsp[-3].s));
        (yyval.ast)->body = (yyvsp[-1].list);
    }
#line 2225 "build-fuzz/parser.c"
    break;

  case 75: /* data_body: opt_data_stmt  */
#line 442 "lang/parser.y"
                                    { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2231 "build-fuzz/parser.c"
    break;

  case 76: /* data_body: data_body ';' opt_data_stmt  */
#line 443 "lang/parser.y"
                                    { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2237 "build-fuzz/parser.c"
    break;

  case 77: /* opt_data_stmt: %empty  */
#line 447 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2243 "build-fuzz/parser.c"
    break;

  case 79: /* opt_data_stmt: error  */
#line 449 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2249 "build-fuzz/parser.c"
    break;

  case 80: /* data_stmt: "identifier" '=' expr  */
#line 453 "lang/parser.y"
                     {
        (yyval.ast) = named(ctx, AST_ASSIGN, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2258 "build-fuzz/parser.c"
    break;

  case 81: /* train_def: "train" "identifier" opt_on '{' train_body '}'  */
#line 461 "lang/parser.y"
                                            {
        (yyval.ast) = named(ctx, AST_TRAIN, (yyloc), (yyvsp[-4].s));
        (yyval.ast)->on = (yyvsp[-3].ast);
        (yyval.ast)->body = (yyvsp[-1].list);
    }
#line 2268 "build-fuzz/parser.c"
    break;

  case 82: /* opt_on: %empty  */
#line 469 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2274 "build-fuzz/parser.c"
    break;

  case 83: /* opt_on: "on" expr  */
#line 470 "lang/parser.y"
                    { (yyval.ast) = (yyvsp[0].ast); }
#line 2280 "build-fuzz/parser.c"
    break;

  case 84: /* train_body: opt_train_stmt  */
#line 474 "lang/parser.y"
                                    { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2286 "build-fuzz/parser.c"
    break;

  case 85: /* train_body: train_body ';' opt_train_stmt  */
#line 475 "lang/parser.y"
                                    { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2292 "build-fuzz/parser.c"
    break;

  case 86: /* opt_train_stmt: %empty  */
#line 479 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2298 "build-fuzz/parser.c"
    break;

  case 88: /* opt_train_stmt: error  */
#line 481 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2304 "build-fuzz/parser.c"
    break;

  case 89: /* train_stmt: "identifier" '=' expr  */
#line 488 "lang/parser.y"
                     {
        (yyval.ast) = named(ctx, AST_ASSIGN, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2313 "build-fuzz/parser.c"
    break;

  case 90: /* train_stmt: "identifier" opt_arg opt_every  */
#line 492 "lang/parser.y"
                              {
        (yyval.ast) = named(ctx, AST_SETTING, (yyloc), (yyvsp[-2].s));
        (yyval.ast)->value = (yyvsp[-1].ast);
        (yyval.ast)->every = (yyvsp[0].s);
    }
#line 2323 "build-fuzz/parser.c"
    break;

  case 91: /* train_stmt: "evaluate" "on" expr opt_every opt_metrics  */
#line 497 "lang/parser.y"
                                             {
        (yyval.ast) = node(ctx, AST_EVALUATE, (yyloc));
        (yyval.ast)->value = (yyvsp[-2].ast);
        (yyval.ast)->every = (yyvsp[-1].s);
        (yyval.ast)->list = (yyvsp[0].list);
    }
#line 2334 "build-fuzz/parser.c"
    break;

  case 92: /* opt_arg: %empty  */
#line 506 "lang/parser.y"
                    { (yyval.ast) = NULL; }
#line 2340 "build-fuzz/parser.c"
    break;

  case 94: /* opt_every: %empty  */
#line 511 "lang/parser.y"
                    { (yyval.s) = NULL; }
#line 2346 "build-fuzz/parser.c"
    break;

  case 95: /* opt_every: "every" "identifier"  */
#line 512 "lang/parser.y"
                    { (yyval.s) = (yyvsp[0].s); }
#line 2352 "build-fuzz/parser.c"
    break;

  case 96: /* opt_metrics: %empty  */
#line 516 "lang/parser.y"
                    { (yyval.list) = (PtrVec){0}; }
#line 2358 "build-fuzz/parser.c"
    break;

  case 97: /* opt_metrics: ':' name_list  */
#line 517 "lang/parser.y"
                    { (yyval.list) = (yyvsp[0].list); }
#line 2364 "build-fuzz/parser.c"
    break;

  case 98: /* name_list: "identifier"  */
#line 521 "lang/parser.y"
                            { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), named(ctx, AST_NAME, (yylsp[0]), (yyvsp[0].s))); }
#line 2370 "build-fuzz/parser.c"
    break;

  case 99: /* name_list: name_list ',' "identifier"  */
#line 522 "lang/parser.y"
                            { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), named(ctx, AST_NAME, (yylsp[0]), (yyvsp[0].s))); }
#line 2376 "build-fuzz/parser.c"
    break;

  case 100: /* expr: postfix "=>" expr  */
#line 531 "lang/parser.y"
                         {
        (yyval.ast) = node(ctx, AST_LAMBDA, (yyloc));
        (yyval.ast)->lhs = (yyvsp[-2].ast);
        (yyval.ast)->value = (yyvsp[0].ast);
    }
#line 2386 "build-fuzz/parser.c"
    break;

  case 101: /* expr: postfix "=>" '{' block_body '}'  */
#line 536 "lang/parser.y"
                                       {
        (yyval.ast) = node(ctx, AST_LAMBDA, (yyloc));
        (yyval.ast)->lhs = (yyvsp[-4].ast);
        (yyval.ast)->list = (yyvsp[-1].list);
    }
#line 2396 "build-fuzz/parser.c"
    break;

  case 102: /* expr: expr '+' expr  */
#line 541 "lang/parser.y"
                                { (yyval.ast) = binary(ctx, (yyloc), '+', (yyvsp[-2].ast), (yyvsp[0].ast)); }
#line 2402 "build-fuzz/parser.c"
    break;

  case 103: /* expr: expr '-' expr  */
#line 542 "lang/parser.y"
                                { (yyval.ast) = binary(ctx, (yyloc), '-', (yyvsp[-2].ast), (yyvsp[0].ast)); }
#line 2408 "build-fuzz/parser.c"
    break;

  case 104: /* expr: expr '*' expr  */
#line 543 "lang/parser.y"
                                { (yyval.ast) = binary(ctx, (yyloc), '*', (yyvsp[-2].ast), (yyvsp[0].ast)); }
#line 2414 "build-fuzz/parser.c"
    break;

  case 105: /* expr: expr '/' expr  */
#line 544 "lang/parser.y"
                                { (yyval.ast) = binary(ctx, (yyloc), '/', (yyvsp[-2].ast), (yyvsp[0].ast)); }
#line 2420 "build-fuzz/parser.c"
    break;

  case 106: /* expr: expr '@' expr  */
#line 545 "lang/parser.y"
                                { (yyval.ast) = binary(ctx, (yyloc), '@', (yyvsp[-2].ast), (yyvsp[0].ast)); }
#line 2426 "build-fuzz/parser.c"
    break;

  case 107: /* expr: '-' expr  */
#line 546 "lang/parser.y"
                                { (yyval.ast) = node(ctx, AST_UNARY, (yyloc)); (yyval.ast)->op = '-'; (yyval.ast)->lhs = (yyvsp[0].ast); }
#line 2432 "build-fuzz/parser.c"
    break;

  case 110: /* postfix: postfix '(' args ')'  */
#line 554 "lang/parser.y"
                            { (yyval.ast) = node(ctx, AST_CALL, (yyloc)); (yyval.ast)->lhs = (yyvsp[-3].ast); (yyval.ast)->list = (yyvsp[-1].list); }
#line 2438 "build-fuzz/parser.c"
    break;

  case 111: /* postfix: postfix '.' "identifier"  */
#line 555 "lang/parser.y"
                            { (yyval.ast) = named(ctx, AST_FIELD, (yyloc), (yyvsp[0].s)); (yyval.ast)->lhs = (yyvsp[-2].ast); }
#line 2444 "build-fuzz/parser.c"
    break;

  case 112: /* postfix: postfix '[' index_list ']'  */
#line 556 "lang/parser.y"
                                 { (yyval.ast) = node(ctx, AST_INDEX, (yyloc)); (yyval.ast)->lhs = (yyvsp[-3].ast); (yyval.ast)->list = (yyvsp[-1].list); }
#line 2450 "build-fuzz/parser.c"
    break;

  case 113: /* index_list: index_item  */
#line 560 "lang/parser.y"
                                { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2456 "build-fuzz/parser.c"
    break;

  case 114: /* index_list: index_list ',' index_item  */
#line 561 "lang/parser.y"
                                { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2462 "build-fuzz/parser.c"
    break;

  case 115: /* index_item: expr  */
#line 567 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->value = (yyvsp[0].ast); }
#line 2468 "build-fuzz/parser.c"
    break;

  case 116: /* index_item: "..."  */
#line 568 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->is_ellipsis = true; }
#line 2474 "build-fuzz/parser.c"
    break;

  case 117: /* index_item: ':'  */
#line 569 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->op = ':'; }
#line 2480 "build-fuzz/parser.c"
    break;

  case 118: /* index_item: expr ':'  */
#line 570 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->op = ':'; (yyval.ast)->lhs = (yyvsp[-1].ast); }
#line 2486 "build-fuzz/parser.c"
    break;

  case 119: /* index_item: ':' expr  */
#line 571 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->op = ':'; (yyval.ast)->rhs = (yyvsp[0].ast); }
#line 2492 "build-fuzz/parser.c"
    break;

  case 120: /* index_item: expr ':' expr  */
#line 572 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->op = ':'; (yyval.ast)->lhs = (yyvsp[-2].ast); (yyval.ast)->rhs = (yyvsp[0].ast); }
#line 2498 "build-fuzz/parser.c"
    break;

  case 123: /* primary: "identifier"  */
#line 579 "lang/parser.y"
                            { (yyval.ast) = named(ctx, AST_NAME, (yyloc), (yyvsp[0].s)); }
#line 2504 "build-fuzz/parser.c"
    break;

  case 124: /* primary: '(' expr ')'  */
#line 580 "lang/parser.y"
                            { (yyval.ast) = (yyvsp[-1].ast); }
#line 2510 "build-fuzz/parser.c"
    break;

  case 125: /* args: %empty  */
#line 584 "lang/parser.y"
                    { (yyval.list) = (PtrVec){0}; }
#line 2516 "build-fuzz/parser.c"
    break;

  case 127: /* arg_list: arg  */
#line 589 "lang/parser.y"
                        { (yyval.list) = (PtrVec){0}; push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2522 "build-fuzz/parser.c"
    break;

  case 128: /* arg_list: arg_list ',' arg  */
#line 590 "lang/parser.y"
                        { (yyval.list) = (yyvsp[-2].list); push(ctx, &(yyval.list), (yyvsp[0].ast)); }
#line 2528 "build-fuzz/parser.c"
    break;

  case 129: /* arg: expr  */
#line 595 "lang/parser.y"
                        { (yyval.ast) = node(ctx, AST_ARG, (yyloc)); (yyval.ast)->value = (yyvsp[0].ast); }
#line 2534 "build-fuzz/parser.c"
    break;

  case 130: /* arg: "identifier" ':' expr  */
#line 596 "lang/parser.y"
                        { (yyval.ast) = named(ctx, AST_ARG, (yyloc), (yyvsp[-2].s)); (yyval.ast)->value = (yyvsp[0].ast); }
#line 2540 "build-fuzz/parser.c"
    break;


#line 2544 "build-fuzz/parser.c"

        default: break;
      }
    if (yychar_backup != yychar)
      YY_LAC_DISCARD ("yychar change");
  }
  /* User semantic actions sometimes alter yychar, and that requires
     that yytoken be updated with the new translation.  We take the
     approach of translating immediately before every use of yytoken.
     One alternative is translating here after every semantic action,
     but that translation would be missed if the semantic action invokes
     YYABORT, YYACCEPT, or YYERROR immediately after altering yychar or
     if it invokes YYBACKUP.  In the case of YYABORT or YYACCEPT, an
     incorrect destructor might then be invoked immediately.  In the
     case of YYERROR or YYBACKUP, subsequent parser actions might lead
     to an incorrect destructor call or verbose syntax error message
     before the lookahead is translated.  */
  YY_SYMBOL_PRINT ("-> $$ =", YY_CAST (yysymbol_kind_t, yyr1[yyn]), &yyval, &yyloc);

  YYPOPSTACK (yylen);
  yylen = 0;

  *++yyvsp = yyval;
  *++yylsp = yyloc;

  /* Now 'shift' the result of the reduction.  Determine what state
     that goes to, based on the state we popped back to and the rule
     number reduced by.  */
  {
    const int yylhs = yyr1[yyn] - YYNTOKENS;
    const int yyi = yypgoto[yylhs] + *yyssp;
    yystate = (0 <= yyi && yyi <= YYLAST && yycheck[yyi] == *yyssp
               ? yytable[yyi]
               : yydefgoto[yylhs]);
  }

  goto yynewstate;


/*--------------------------------------.
| yyerrlab -- here on detecting error.  |
`--------------------------------------*/
yyerrlab:
  /* Make sure we have latest lookahead translation.  See comments at
     user semantic actions for why this is necessary.  */
  yytoken = yychar == YYEMPTY ? YYSYMBOL_YYEMPTY : YYTRANSLATE (yychar);
  /* If not already recovering from an error, report this error.  */
  if (!yyerrstatus)
    {
      ++yynerrs;
      {
        yypcontext_t yyctx
          = {yyssp, yyesa, &yyes, &yyes_capacity, yytoken, &yylloc};
        if (yychar != YYEMPTY)
          YY_LAC_ESTABLISH;
        if (yyreport_syntax_error (&yyctx, ctx) == 2)
          YYNOMEM;
      }
    }

  yyerror_range[1] = yylloc;
  if (yyerrstatus == 3)
    {
      /* If just tried and failed to reuse lookahead token after an
         error, discard it.  */

      if (yychar <= END)
        {
          /* Return failure if at end of input.  */
          if (yychar == END)
            YYABORT;
        }
      else
        {
          yydestruct ("Error: discarding",
                      yytoken, &yylval, &yylloc, ctx);
          yychar = YYEMPTY;
        }
    }

  /* Else will try to reuse lookahead token after shifting the error
     token.  */
  goto yyerrlab1;


/*---------------------------------------------------.
| yyerrorlab -- error raised explicitly by YYERROR.  |
`---------------------------------------------------*/
yyerrorlab:
  /* Pacify compilers when the user code never invokes YYERROR and the
     label yyerrorlab therefore never appears in user code.  */
  if (0)
    YYERROR;
  ++yynerrs;

  /* Do not reclaim the symbols of the rule whose action triggered
     this YYERROR.  */
  YYPOPSTACK (yylen);
  yylen = 0;
  YY_STACK_PRINT (yyss, yyssp);
  yystate = *yyssp;
  goto yyerrlab1;


/*-------------------------------------------------------------.
| yyerrlab1 -- common code for both syntax error and YYERROR.  |
`-------------------------------------------------------------*/
yyerrlab1:
  yyerrstatus = 3;      /* Each real token shifted decrements this.  */

  /* Pop stack until we find a state that shifts the error token.  */
  for (;;)
    {
      yyn = yypact[yystate];
      if (!yypact_value_is_default (yyn))
        {
          yyn += YYSYMBOL_YYerror;
          if (0 <= yyn && yyn <= YYLAST && yycheck[yyn] == YYSYMBOL_YYerror)
            {
              yyn = yytable[yyn];
              if (0 < yyn)
                break;
            }
        }

      /* Pop the current state because it cannot handle the error token.  */
      if (yyssp == yyss)
        YYABORT;

      yyerror_range[1] = *yylsp;
      yydestruct ("Error: popping",
                  YY_ACCESSING_SYMBOL (yystate), yyvsp, yylsp, ctx);
      YYPOPSTACK (1);
      yystate = *yyssp;
      YY_STACK_PRINT (yyss, yyssp);
    }

  /* If the stack popping above didn't lose the initial context for the
     current lookahead token, the shift below will for sure.  */
  YY_LAC_DISCARD ("error recovery");

  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  *++yyvsp = yylval;
  YY_IGNORE_MAYBE_UNINITIALIZED_END

  yyerror_range[2] = yylloc;
  ++yylsp;
  YYLLOC_DEFAULT (*yylsp, yyerror_range, 2);

  /* Shift the error token.  */
  YY_SYMBOL_PRINT ("Shifting", YY_ACCESSING_SYMBOL (yyn), yyvsp, yylsp);

  yystate = yyn;
  goto yynewstate;


/*-------------------------------------.
| yyacceptlab -- YYACCEPT comes here.  |
`-------------------------------------*/
yyacceptlab:
  yyresult = 0;
  goto yyreturnlab;


/*-----------------------------------.
| yyabortlab -- YYABORT comes here.  |
`-----------------------------------*/
yyabortlab:
  yyresult = 1;
  goto yyreturnlab;


/*-----------------------------------------------------------.
| yyexhaustedlab -- YYNOMEM (memory exhaustion) comes here.  |
`-----------------------------------------------------------*/
yyexhaustedlab:
  yyerror (&yylloc, ctx, YY_("memory exhausted"));
  yyresult = 2;
  goto yyreturnlab;


/*----------------------------------------------------------.
| yyreturnlab -- parsing is finished, clean up and return.  |
`----------------------------------------------------------*/
yyreturnlab:
  if (yychar != YYEMPTY)
    {
      /* Make sure we have latest lookahead translation.  See comments at
         user semantic actions for why this is necessary.  */
      yytoken = YYTRANSLATE (yychar);
      yydestruct ("Cleanup: discarding lookahead",
                  yytoken, &yylval, &yylloc, ctx);
    }
  /* Do not reclaim the symbols of the rule whose action triggered
     this YYABORT or YYACCEPT.  */
  YYPOPSTACK (yylen);
  YY_STACK_PRINT (yyss, yyssp);
  while (yyssp != yyss)
    {
      yydestruct ("Cleanup: popping",
                  YY_ACCESSING_SYMBOL (+*yyssp), yyvsp, yylsp, ctx);
      YYPOPSTACK (1);
    }
#ifndef yyoverflow
  if (yyss != yyssa)
    YYSTACK_FREE (yyss);
#endif
  if (yyes != yyesa)
    YYSTACK_FREE (yyes);

  return yyresult;
}

#line 599 "lang/parser.y"


/* ---- syntax errors: name tokens the way the user wrote them ---- */

static bool is_keyword(int tok)
{
    return tok >= USE && tok <= EVERY;
}

/* What the parser found: "';'", "identifier 'foo'", "number 12", "end of file". */
static void describe_found(const ParseCtx *ctx, char *buf, size_t n)
{
    int len = ctx->tok_len > 40 ? 40 : ctx->tok_len;
    if (ctx->tok == END || (ctx->tok_inserted && ctx->eof_done))
        snprintf(buf, n, "end of file");
    else if (ctx->tok_inserted)
        snprintf(buf, n, "end of line");
    else if (ctx->tok == IDENT)
        snprintf(buf, n, "identifier '%.*s'", len, ctx->tok_text);
    else if (ctx->tok == NUM)
        snprintf(buf, n, "number %.*s", len, ctx->tok_text);
    else if (ctx->tok == STR)
        snprintf(buf, n, "string");
    else
        snprintf(buf, n, "'%.*s'", len, ctx->tok_text);
}

/* What the parser wanted, by symbol: "identifier", "'use'", "')'". */
static void describe_symbol(yysymbol_kind_t k, char *buf, size_t n)
{
    const char *name = yysymbol_name(k);   /* unquoted, except 'c' for characters */
    if (k == YYSYMBOL_IDENT || k == YYSYMBOL_NUM || k == YYSYMBOL_STR || k == YYSYMBOL_YYEOF ||
        name[0] == '\'')
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "'%s'", name);
}

static void note_opener(const Opener *o)
{
    if (o->ch == '{' && o->word && o->name)
        diag(DIAG_NOTE, o->at, "to close '{' of %.*s '%s' opened here", o->word_len, o->word, o->name);
    else if (o->ch == '{' && o->word)
        diag(DIAG_NOTE, o->at, "to close '{' of '%.*s' opened here", o->word_len, o->word);
    else
        diag(DIAG_NOTE, o->at, "to close '%c' opened here", o->ch);
}

/* One message per mistake, from the lookahead and the tokens that could have come
 * instead (exact, thanks to LAC): an expression, a dimension, a closing bracket, the
 * words that start a statement, or the end of the statement. */
static void report_syntax_error(const yypcontext_t *yc, ParseCtx *ctx);

/* Reports (unless the lexer already did for this statement), then has the lexer drop
 * the rest of the statement so the parser's `error` rules resync at its end and one
 * mistake gives one message. */
static int yyreport_syntax_error(const yypcontext_t *yc, ParseCtx *ctx)
{
    if (ctx->fatal)
        return 0;
    if (!ctx->stmt_lex_error)
        report_syntax_error(yc, ctx);
    lex_recover(ctx);
    return 0;
}

static void report_syntax_error(const yypcontext_t *yc, ParseCtx *ctx)
{
    Span at = *yypcontext_location(yc);
    char found[96];
    describe_found(ctx, found, sizeof found);
    bool at_eof = ctx->tok == END || (ctx->tok_inserted && ctx->eof_done);
    if (at_eof && ctx->nopen > 0) {
        diag(DIAG_ERROR, at, "unexpected end of file");
        note_opener(&ctx->open[ctx->nopen - 1]);
        return;
    }
    if (ctx->tok_unmatched) {
        char c = ctx->tok_text[0], o = c == ')' ? '(' : c == ']' ? '[' : '{';
        diag(DIAG_ERROR, at, "unexpected '%c' with no matching '%c'", c, o);
        return;
    }

    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(yc, exp, YYNTOKENS);
    bool has[YYNTOKENS] = {0};
    for (int i = 0; i < n; i++)
        has[exp[i]] = true;
    if (has[YYSYMBOL_NUM] && has[YYSYMBOL_STR]) {
        diag(DIAG_ERROR, at, "expected an expression but found %s", found);
        return;
    }
    if (has[YYSYMBOL_ELLIPSIS]) {
        diag(DIAG_ERROR, at, "expected a dimension (a number, a name or '...') but found %s", found);
        return;
    }
    if (has[YYTRANSLATE(')')] || has[YYTRANSLATE(']')]) {
        diag(DIAG_ERROR, at, "expected '%c' but found %s", has[YYTRANSLATE(')')] ? ')' : ']', found);
        /* The lookahead's own bracket is not on the stack yet (see pend_tok). */
        if (ctx->nopen > 0 && ctx->open[ctx->nopen - 1].ch != '{')
            note_opener(&ctx->open[ctx->nopen - 1]);
        return;
    }

    /* What is left once operators and statement ends are set aside. */
    static const char skip[] = "+-*/@(.[;}";
    yysymbol_kind_t want[YYNTOKENS];
    int nwant = 0;
    bool starts = false, name_ok = false;
    for (int i = 0; i < n; i++) {
        bool drop = exp[i] == YYSYMBOL_YYEOF;
        for (const char *s = skip; *s; s++)
            drop |= exp[i] == YYTRANSLATE((int)(unsigned char)*s);
        if (drop)
            continue;
        want[nwant++] = exp[i];
        starts |= exp[i] >= YYSYMBOL_USE && exp[i] <= YYSYMBOL_EVALUATE && exp[i] != YYSYMBOL_ON;
        name_ok |= exp[i] == YYSYMBOL_IDENT;
    }
    bool kw = is_keyword(ctx->tok);
    bool item_word = ctx->tok >= USE && ctx->tok <= TRAIN;
    if (starts && kw) {
        diag(DIAG_ERROR, at, "unexpected %s here", found);
        /* `model` or `train` at the start of a line inside a block: most likely the
         * block above was never closed. */
        if (item_word && ctx->nopen > 0 && ctx->open[ctx->nopen - 1].ch == '{')
            note_opener(&ctx->open[ctx->nopen - 1]);
        return;
    }
    if (!starts && has[YYTRANSLATE(';')]) {
        diag(DIAG_ERROR, at, "expected ';' or newline but found %s", found);
    } else if (nwant == 1 && want[0] == YYSYMBOL_IDENT && ctx->prev_tok == ':' &&
               (ctx->stmt_tok == PARAM || ctx->stmt_tok == INPUT ||
                ctx->stmt_tok == OUTPUT || ctx->stmt_tok == FORWARD)) {
        diag(DIAG_ERROR, at, "expected a type such as f32[10] but found %s", found);
        return;
    } else if (nwant >= 1 && nwant <= 6) {
        char list[256] = "", word[40];
        for (int i = 0; i < nwant; i++) {
            describe_symbol(want[i], word, sizeof word);
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i == 0 ? "" : i == nwant - 1 ? " or " : ", ", word);
        }
        diag(DIAG_ERROR, at, "expected %s but found %s", list, found);
    } else {
        diag(DIAG_ERROR, at, "unexpected %s here", found);
    }
    if (kw && name_ok)
        diag(DIAG_HINT, at, "'%.*s' is a keyword and cannot be used as a name", ctx->tok_len, ctx->tok_text);
    if (ctx->tok_inserted && !ctx->eof_done && has[YYTRANSLATE('{')])
        diag(DIAG_HINT, at, "a newline here ends the statement; put the '{' on this line");
    return;
}

/* Called by bison only when its stack is full: input nested deeper than YYMAXDEPTH. */
static void yyerror(Span *loc, ParseCtx *ctx, const char *msg)
{
    if (ctx->fatal)
        return;
    ctx->fatal = true;
    diag(DIAG_ERROR, *loc, "expression nested too deeply");
}

Ast *parse_file(Arena *a, const SrcFile *f)
{
    ParseCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    lex_begin(&ctx, a, f);
    ctx.program = ast_new(a, AST_PROGRAM, (Span){f, 1, 1, 1, 1});
    yyparse(&ctx);
    ctx.program->span = span_join(ctx.program->span, lex_eof_span(&ctx));
    lex_end(&ctx);
    return ctx.program;
}
